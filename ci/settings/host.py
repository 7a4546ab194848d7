"""Decide from the facts about this machine and process: what they are (read once), and the
defaults they set (compile jobs, platforms at once, the ccache dir, the Docker config dir)."""

from __future__ import annotations

import dataclasses
import os
import platform as platform_module
import socket
from collections.abc import Mapping
from pathlib import Path

from ci.base import procs

# The variables Jenkins' process tree killer matches on: passed into the run's containers (so
# the killer finds their processes), kept from the watchdog (ci.running.cleanup), which it must
# not take down together with the run it is there to clean up after.
JENKINS_VARIABLES = (
    "BUILD_NUMBER",
    "BUILD_ID",
    "BUILD_TAG",
    "JOB_NAME",
    "JENKINS_NODE_COOKIE",
    "JENKINS_SERVER_COOKIE",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Host:
    """The facts about this machine and process that a plan depends on."""

    machine: str  # uname -m
    cpus: int
    available_memory: int
    uid: int
    gid: int
    euid: int
    pid: int
    start_time: float  # of this process: with pid, it names the owner of our containers
    name: str
    cwd: Path
    home: Path
    stdin_tty: bool
    stderr_tty: bool = False
    aslr_bits: int | None = None  # vm.mmap_rnd_bits: the kernel's ASLR entropy (None: not known)

    @classmethod
    def current(cls) -> Host:
        return cls(
            machine=platform_module.machine(),
            cpus=os.cpu_count() or 1,
            available_memory=procs.available_memory(),
            uid=os.getuid(),
            gid=os.getgid(),
            euid=os.geteuid(),
            pid=os.getpid(),
            start_time=procs.start_time(os.getpid()),
            name=socket.gethostname(),
            cwd=Path.cwd(),
            home=Path.home(),
            stdin_tty=os.isatty(0),
            stderr_tty=os.isatty(2),
            aslr_bits=aslr_bits(),
        )


def aslr_bits(path: Path = Path("/proc/sys/vm/mmap_rnd_bits")) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def default_ccache_dir(env: Mapping[str, str], home: Path) -> Path:
    """The ccache dir when neither --ccache-dir nor $CCACHE_DIR (ci.settings.resolve) names one."""
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return base / "ciharness" / "ccache"


def default_jobs(cpus: int, available_bytes: int) -> int:
    """One compile job per core, but no more than one per 1 GiB of available memory."""
    return max(1, min(cpus, available_bytes // (1 << 30)))


def default_parallel(cpus: int, available_bytes: int) -> int:
    """Platforms at once: two per core, at most one per 2 GiB of available memory.

    A platform's run uses every core only while it compiles; its configure step, its container's
    start and end, and its tests (one process under qemu-user, for foreign platforms) leave cores
    idle. With one platform per core those idle spells are lost; with two, another platform's
    compile fills them (measured: 4 warm platforms on 2 cores, -j 4 took 0.69x the time of -j 2).
    """
    return max(1, min(2 * cpus, available_bytes // (2 << 30)))


def docker_config(env: Mapping[str, str], host: Host) -> Path:
    return Path(env.get("DOCKER_CONFIG") or host.home / ".docker")
