"""Do: the only way the harness talks to a Docker engine (Engine): reach it, its images, its
containers. Runs, streams, removes; builds, pulls.

It knows nothing about platforms or projects: it creates the containers it is told to (the API's
create body) and builds a context. Calls go over ci.engine.api (the standard library); builds,
pulls and pushes go through the Docker SDK (ci.engine.sdk), imported the first time one is needed.
"""

from __future__ import annotations

from ci.engine.containerops import ContainerOps
from ci.engine.imageops import ImageOps
from ci.engine.session import START_HINT, Output, write_through

# What the rest of the harness imports from here (the connection's module has the first three).
__all__ = ["START_HINT", "Engine", "Output", "write_through"]


class Engine(ImageOps, ContainerOps):
    """One engine: connect (Engine.connect), then its images and its containers."""
