"""Podman: which engine auto picks, where the socket is, and the differences planned for it."""

from __future__ import annotations

from pathlib import Path

from ci.planning.enginekind import choose, socket_path
from ci.planning.quirks import engine_quirks


def test_auto_prefers_docker_then_podman(tmp_path: Path) -> None:
    sock = tmp_path / "docker.sock"
    assert choose("auto", {}, sock, podman_installed=True) == "podman"  # only podman here
    assert choose("auto", {}, sock, podman_installed=False) == "docker"  # then the error says how
    sock.touch()
    assert choose("auto", {}, sock, podman_installed=True) == "docker"
    assert choose("auto", {"DOCKER_HOST": "tcp://x:1"}, tmp_path / "none", podman_installed=True) == "docker"
    assert choose("podman", {}, sock) == "podman" and choose("docker", {}, tmp_path / "none") == "docker"


def test_socket_paths() -> None:
    assert socket_path(0, {}) == Path("/run/podman/podman.sock")
    assert socket_path(1000, {"XDG_RUNTIME_DIR": "/run/user/1000"}) == Path(
        "/run/user/1000/podman/podman.sock"
    )
    assert socket_path(1001, {}) == Path("/run/user/1001/podman/podman.sock")


def test_quirks_only_for_podman() -> None:
    assert engine_quirks("docker", {"nofile": 10, "nproc": 20}, rootless=False) == {}
    rootful = engine_quirks("podman", {"nofile": 20000, "nproc": 32768}, rootless=False)
    assert rootful == {
        "program": "podman",
        "ulimits": (("nofile", 20000, 20000), ("nproc", 32768, 32768)),
        "userns": "",
        "network": "",
    }
    rootless = engine_quirks("podman", {"nofile": 1024, "nproc": 512}, rootless=True)
    assert rootless["userns"] == "keep-id" and rootless["network"] == "slirp4netns"
