"""Decide how a run wants its images: what may be used, built, pulled and pushed (one frozen
value, carried by the invocation to the code that provides images)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageRequest:
    """How a run wants its image: what may be used, built, pulled and pushed."""

    lock_timeout: float  # the lock-timeout setting: waiting for another run's build of the image
    debian_mirror: str  # the debian-mirror setting: where a base image is bootstrapped from
    no_cache: bool = False
    native_packages: bool = True  # an emulated image's package steps made by this machine's apt
    run_only: bool = False
    registry: str | None = None
    push_cache: bool = False
    attempts: int = 3
    retry_delay: float = 2.0
