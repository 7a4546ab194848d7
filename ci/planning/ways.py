"""Decide how a platform builds on an engine of a given architecture: natively (the engine is
of the target's architecture), cross-compiled (an image of the engine's own architecture with
Debian's cross toolchain for the target), or emulated (an image of another architecture, run
under QEMU). Pure: the engine's architecture is given.

Only a platform whose Dockerfile says ``# ci.docker-platform: engine`` has a choice; one that
names its image's platform keeps it on every engine (and is emulated where that is foreign).
"""

from __future__ import annotations

import dataclasses

from ci.planning import arches, emulation
from ci.planning.platforms import Platform

NATIVE = "native"
CROSS = "cross"
CROSS_QEMU = "cross + qemu-user"
EMULATED = "emulated"


def image_platform(platform: Platform, engine_platform: str) -> str:
    """The Docker platform of the image platform runs in on an engine of engine_platform."""
    if not platform.portable:
        return platform.docker_platform
    if platform.target == engine_platform or arches.cross_toolchain_on(platform.target, engine_platform):
        return engine_platform
    return platform.target  # no cross toolchain there: the target's own userland, emulated


def on_engine(platform: Platform, engine_platform: str) -> Platform:
    """The platform as it builds on an engine of engine_platform (itself unless portable)."""
    chosen = image_platform(platform, engine_platform)
    return (
        dataclasses.replace(platform, docker_platform=chosen)
        if chosen != platform.docker_platform
        else platform
    )


def way(platform: Platform, engine_platform: str) -> str:
    """How platform (as on_engine made it) runs there: native, cross, cross + qemu-user (its
    tests under QEMU) or emulated (its image's own userland under QEMU)."""
    foreign = emulation.needed(platform, engine_platform)
    if platform.docker_platform in foreign:
        return EMULATED
    if platform.docker_platform == platform.target:
        return NATIVE
    return CROSS_QEMU if foreign else CROSS


def image_kind(platform: Platform) -> str:
    """What its image holds, named in the image's tag: the target's native compilers, or a
    cross toolchain for it."""
    return NATIVE if platform.docker_platform == platform.target else CROSS
