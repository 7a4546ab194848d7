"""Do: podman as the engine, through its Docker-compatible API service.

The same ci.engine.client code drives it; what differs is decided in ci.planning.quirks (ulimits,
user namespace,
the printed program) from what this module reports: where the service's socket is, whether it
runs rootless, and the limits of the process that starts containers.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import socket
import subprocess
import time
from pathlib import Path

from ci.errors import EngineUnreachableError

log = logging.getLogger(__name__)


def _answers(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"200" in sock.recv(64)
        except OSError:
            return False


def ensure_service(path: Path) -> str:
    """The URL of a running podman API service, started (detached, no timeout) when none answers."""
    if _answers(path):
        return f"unix://{path}"
    if shutil.which("podman") is None:
        raise EngineUnreachableError(
            "podman is not installed", hint="run scripts/provision.sh --podman, or use --engine docker"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting the podman API service on %s", path)
    # It outlives this run, so it must not keep our working directory: the service hands its own
    # to conmon, which refuses to start any container once that directory has been removed.
    with open(path.parent / "ciharness-service.log", "ab") as service_log:
        subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{path}"],
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=service_log,
            stderr=service_log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    while not _answers(path):
        if time.monotonic() > deadline:
            raise EngineUnreachableError(
                f"the podman API service did not come up on {path}",
                hint=f"its output is in {path.parent / 'ciharness-service.log'}; or start it yourself: "
                f"podman system service --time=0 unix://{path}",
            )
        time.sleep(0.1)
    return f"unix://{path}"


def service_limits(path: Path) -> dict[str, int]:
    """Hard nofile and nproc limits of the podman process serving path (it starts the
    containers, so they cannot get more), and never more than our own."""
    limits = {
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[1],
    }
    import psutil  # noqa: PLC0415  # only for podman: kept off every run's start-up

    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.info.get("name") == "podman" and "service" in cmdline and str(path) in cmdline:
            try:
                limits["nofile"] = min(limits["nofile"], proc.rlimit(psutil.RLIMIT_NOFILE)[1])
                limits["nproc"] = min(limits["nproc"], proc.rlimit(psutil.RLIMIT_NPROC)[1])
            except (psutil.Error, OSError):
                pass
            break
    return {k: v if v >= 0 else 1 << 20 for k, v in limits.items()}


def rootless() -> bool:
    return os.geteuid() != 0
