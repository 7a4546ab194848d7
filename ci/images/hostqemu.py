"""Do: ask this machine's QEMU (the interpreter of its binfmt_misc handler) its version, and so tell
the CPU a run or an image build on this machine's engine gives QEMU (ci.planning.emulation decides)."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from ci.planning import emulation
from ci.planning.emulation import BINFMT_DIR, Version
from ci.planning.platforms import Platform, host_docker_platform


def qemu_cpu_here(
    platform: Platform, engine_platform: str, *, local: bool, build: bool = False, machine: str = ""
) -> str | None:
    """qemu_cpu (build_qemu_cpu for its image's steps) on an engine of this machine (local: what
    its containers run natively is what this machine's kernel (of `uname -m` machine) runs,
    whatever the engine reports, and its QEMU's version is the handler's) or another's (not known)."""
    decide = emulation.build_qemu_cpu if build else emulation.qemu_cpu
    if not local:
        return decide(platform, engine_platform, lambda _: None)
    return decide(
        platform, native_platform(engine_platform, local=True, machine=machine), handler_qemu_version
    )


def native_platform(engine_platform: str, *, local: bool, machine: str = "") -> str:
    """The platform an engine's containers run natively: this machine's kernel's for an engine of
    this machine (whatever it reports), the engine's own otherwise."""
    return host_docker_platform(machine or os.uname().machine) if local else engine_platform


def steps_emulated(platform: Platform, engine_platform: str, *, local: bool, machine: str = "") -> bool:
    """Whether the RUN steps of platform's image run under QEMU on the engine (of this machine,
    local: what this kernel runs natively decides)."""
    here = native_platform(engine_platform, local=local, machine=machine)
    return platform.docker_platform in emulation.needed(platform, here)


@functools.cache
def handler_qemu_version(docker_platform: str, binfmt_dir: Path = BINFMT_DIR) -> Version | None:
    """The version of the QEMU this machine's binfmt_misc handler for docker_platform runs (its
    interpreter, resolved past Debian's -binfmt-P link, asked for --version), or None."""
    name = emulation.handler_name(docker_platform)
    handler = emulation.read_handler(name, binfmt_dir) if name else None
    if handler is None or not handler.interpreter:
        return None
    try:
        result = subprocess.run(
            [os.path.realpath(handler.interpreter), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return emulation.parse_qemu_version(result.stdout)
