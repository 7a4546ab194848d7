"""Do: give each run its source tree as planned. A copy-on-write source gets its layer dirs in
the build dir, and the overlay's root-owned scratch dir is cleared after it; an engine that
cannot mount an overlay falls back to a read-only source, said once in the log."""

from __future__ import annotations

import logging
import shutil
import threading

from ci.engine.client import Engine
from ci.errors import ContainerError
from ci.planning import runspec
from ci.running import hostdirs

log = logging.getLogger(__name__)


class OverlaySupport:
    """Which engines of this invocation turned out unable to mount an overlay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: set[str] = set()

    def mode_for(self, engine_url: str, planned: runspec.SourceMode) -> runspec.SourceMode:
        with self._lock:
            refused = engine_url in self._refused
        return "read-only" if planned == "copy-on-write" and refused else planned

    def refuse(self, engine_url: str, reason: str) -> None:
        with self._lock:
            first = engine_url not in self._refused
            self._refused.add(engine_url)
        if first:
            log.warning(
                "%s; the source is mounted read-only instead (use --writable-source to let builds "
                "write into the tree itself)",
                reason,
            )


def prepare_layers(engine: Engine, spec: runspec.RunSpec) -> None:
    """The copy-on-write source's upper and scratch dirs, made as the user before the run (and
    the scratch dir cleared, should an earlier run have been killed before it could)."""
    clear_scratch(engine, spec)
    for mount in spec.mounts:
        if mount.upper is not None and mount.work is not None:
            hostdirs.prepare_dir(mount.upper)
            hostdirs.prepare_dir(mount.work)


def clear_scratch(engine: Engine, spec: runspec.RunSpec) -> None:
    """Remove what the kernel left in the overlay's scratch dir: a root-owned, mode-000 `work`
    dir that the user could not remove. Done as the user when allowed (root; rootless podman,
    whose root is the user), else by a short root container on the engine."""
    for mount in spec.mounts:
        if mount.work is None or not (mount.work / "work").exists():
            continue
        try:
            shutil.rmtree(mount.work / "work")
            continue
        except PermissionError:
            pass
        try:
            status = engine.run_as_root(
                spec.image,
                ["rm", "-rf", "/scratch/work"],
                binds=[f"{mount.work}:/scratch"],
                platform=spec.docker_platform,
                labels=dict(spec.labels),
            )
        except ContainerError as exc:
            status, reason = 1, exc.message
        else:
            reason = f"status {status}"
        if status != 0:
            log.warning("could not clear %s (%s); remove it as root", mount.work / "work", reason)
