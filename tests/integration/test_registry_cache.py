"""The image cache through a real registry (Debian's docker-registry) on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import REPO, run_build_py, start_registry, tiny_platforms


def tags(address: str, repository: str) -> list[str]:
    with urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=5) as response:
        return list(json.load(response).get("tags") or [])


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_push_then_pull_instead_of_building_and_registry_down_is_a_warning(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    address, proc = start_registry(tmp_path / "registry")
    name = f"cached{uuid.uuid4().hex[:8]}"
    docker_dir = tiny_platforms(tmp_path, {name: f"FROM debian:trixie\nRUN echo {name} > /marker\n"})
    common = ["-p", name, "--docker-dir", str(docker_dir), "-b", "--docker-registry", address]

    pushed = run_build_py(*common, "--push-cache")
    assert pushed.returncode == 0, pushed.stderr
    ref = pushed.stdout.strip()
    tag = ref.rsplit(":", 1)[1]
    assert tags(address, f"ciharness/{name}") == [tag]

    # Another machine (here: the same engine without the image) pulls instead of building.
    docker_client.images.remove(ref, force=True)
    docker_client.images.remove(f"{address}/{ref}", force=True)
    pulled = run_build_py(*common)
    assert pulled.returncode == 0, pulled.stderr
    assert "pulled" in pulled.stderr and "building image" not in pulled.stderr
    assert docker_client.images.get(ref).labels["io.ciharness.platform"] == name

    # Registry down: a warning, then a local build; never a failure.
    proc.kill()
    proc.wait()
    docker_client.images.remove(ref, force=True)
    docker_client.images.remove(f"{address}/{ref}", force=True)
    down = run_build_py(*common, "--push-cache")
    assert down.returncode == 0, down.stderr
    assert "registry cache: cannot pull" in down.stderr and "building image" in down.stderr
    assert "registry cache: cannot push" in down.stderr
    for leftover in (ref, f"{address}/{ref}"):
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(leftover, force=True)


def test_the_runs_transport_registry_outlives_the_command_that_started_it(tmp_path: Path) -> None:
    """scripts/test.sh's way: the command prints the address of a registry that goes on
    answering after it exits, and leaves the pid to stop it by."""
    started = subprocess.run(
        [sys.executable, "-m", "tests.integration.cache_registry", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    address = started.stdout.strip()
    pid = int((tmp_path / "pid").read_text())
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as response:
            assert response.status == 200
    finally:
        os.kill(pid, signal.SIGTERM)
