"""Decide and check what QEMU user-mode emulation a platform needs on this host.

Foreign binaries run through the kernel's binfmt_misc handlers that qemu-user-static registers.
The F flag (fix binary) makes the kernel open the interpreter at registration time, so the
handler works inside containers that do not contain QEMU.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from ci.errors import EmulationUnavailableError, UsageError
from ci.planning import arches
from ci.planning.platforms import Platform

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")

# What a host runs without emulation besides its own platform.
NATIVE_EXTRAS = {"linux/amd64": {"linux/386"}, "linux/arm64": {"linux/arm/v7", "linux/arm/v6"}}


def handler_name(docker_platform: str) -> str | None:
    """The binfmt_misc handler Debian's qemu-user-static registers for it (qemu-arm), if any."""
    arch = arches.by_platform(docker_platform)
    return f"qemu-{arch.qemu}" if arch and arch.qemu != arches.NONE else None


def normalize_arch(arch: str) -> str:
    """--arch value (arm64, armhf, linux/arm/v7, ...) -> Docker platform (docker/arches)."""
    row = arches.by_name(arch)
    if row is not None:
        return row.platform
    if arches.by_platform(arch) is not None:
        return arch
    raise UsageError(
        f"unknown architecture {arch!r} for --arch",
        hint="use one of: " + ", ".join(sorted(n for row in arches.table() for n in row.names)),
    )


def with_arch(platform: Platform, docker_platform: str) -> Platform:
    """The platform built and run as another architecture (its image and tag change with it).
    A native platform's target moves with it; a cross or portable one keeps its target."""
    native = platform.target == platform.docker_platform and not platform.portable
    target = docker_platform if native else platform.target
    return dataclasses.replace(platform, docker_platform=docker_platform, target=target, portable=False)


def needed(platform: Platform, host: str) -> list[str]:
    """Docker platforms among the image's and the target's that this host cannot run natively."""
    native = {host} | NATIVE_EXTRAS.get(host, set())
    wanted = dict.fromkeys([platform.docker_platform, platform.target])
    return [p for p in wanted if p not in native]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Handler:
    name: str
    enabled: bool
    interpreter: str
    flags: str


def parse_handler(name: str, text: str) -> Handler:
    fields = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
    return Handler(
        name=name,
        enabled=text.splitlines()[0].strip() == "enabled" if text else False,
        interpreter=fields.get("interpreter", "").strip(),
        flags=fields.get("flags:", "").strip(),
    )


def problem(docker_platform: str, handler: Handler | None) -> str | None:
    """Why handler cannot run docker_platform binaries in containers, or None when it can."""
    name = handler_name(docker_platform)
    if name is None:
        return f"no QEMU user-mode emulator is known for {docker_platform}"
    if handler is None:
        return f"the binfmt_misc handler {name} for {docker_platform} is not registered"
    if not handler.enabled:
        return f"the binfmt_misc handler {name} for {docker_platform} is disabled"
    if "F" not in handler.flags:
        return f"the binfmt_misc handler {name} lacks the F flag, so it cannot work inside containers"
    return None


def read_handler(name: str, binfmt_dir: Path = BINFMT_DIR) -> Handler | None:
    path = binfmt_dir / name
    try:
        return parse_handler(name, path.read_text(encoding="utf-8"))
    except OSError:
        return None


def check(platform: Platform, host: str, binfmt_dir: Path = BINFMT_DIR) -> None:
    """Raise EmulationUnavailableError unless every architecture platform needs can run here."""
    for docker_platform in needed(platform, host):
        name = handler_name(docker_platform)
        reason = problem(docker_platform, read_handler(name, binfmt_dir) if name else None)
        if reason:
            raise EmulationUnavailableError(
                f"{platform.name} needs emulation: {reason}",
                hint="run sudo scripts/provision.sh (installs qemu-user-static and binfmt-support and "
                "registers the handlers), or run this platform on a native machine",
            )


# QEMU_CPU's values with CPU properties (arm64's pauth-impdef=on) need QEMU 6.0 or later.
Version = tuple[int, int]
QEMU_CPU_SINCE: Version = (6, 0)
QEMU_CPU = "QEMU_CPU"


def qemu_cpu(
    platform: Platform, engine_platform: str, qemu_version: Callable[[str], Version | None]
) -> str | None:
    """QEMU_CPU for a run's container: the row's qemu_cpu of the one architecture QEMU emulates
    there (the target's tests under qemu-user, its whole userland, or the image's own programs: an
    x86 cross image made for arm64, run on an x86-64 machine), or the target's where nothing is
    emulated (nothing reads it); only where that QEMU takes the value (qemu_version(platform),
    asked only then: this machine's handler's, None when the engine is another machine's). Never
    where two architectures are emulated: one variable would reach both QEMUs. None: the default."""
    foreign = needed(platform, engine_platform)
    if len(foreign) > 1:
        return None
    emulated = foreign[0] if foreign else None
    row = arches.by_platform(emulated or platform.target)
    if row is None or row.qemu_cpu == arches.NONE:
        return None
    if emulated is not None:
        version = qemu_version(emulated)
        if version is None or version < QEMU_CPU_SINCE:
            return None
    return row.qemu_cpu


def build_qemu_cpu(
    platform: Platform, engine_platform: str, qemu_version: Callable[[str], Version | None]
) -> str | None:
    """QEMU_CPU for the RUN steps of the platform's image: as qemu_cpu, where the image's own
    architecture is emulated (its steps are that architecture's programs). None where the engine
    runs them natively: a cross image's steps are the engine's own code, and the build argument
    would part its layers from those other images share."""
    if platform.docker_platform not in needed(platform, engine_platform):
        return None
    return qemu_cpu(platform, engine_platform, qemu_version)


def parse_qemu_version(text: str) -> Version | None:
    """`qemu-aarch64 version 7.2.22 (Debian ...)` -> (7, 2)."""
    found = re.search(r"version (\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else None
