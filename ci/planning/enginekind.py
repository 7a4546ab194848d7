"""Decide which kind of engine a run talks to (docker or podman) and where podman's API socket is
(pure: reads the environment and whether a socket or program exists)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path


def choose(
    engine: str,
    env: Mapping[str, str],
    docker_socket: Path = Path("/var/run/docker.sock"),
    podman_installed: bool | None = None,
) -> str:
    """--engine auto|docker|podman -> docker or podman (auto: Docker when it is there)."""
    if engine != "auto":
        return engine
    if env.get("DOCKER_HOST") or docker_socket.exists():
        return "docker"
    installed = shutil.which("podman") is not None if podman_installed is None else podman_installed
    return "podman" if installed else "docker"


def socket_path(euid: int, env: Mapping[str, str]) -> Path:
    """Where podman's own tools put the API socket: rootful under /run, rootless per user."""
    if euid == 0:
        return Path("/run/podman/podman.sock")
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{euid}"
    return Path(runtime) / "podman" / "podman.sock"
