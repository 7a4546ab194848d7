"""The image cache through a real registry (Debian's docker-registry) on loopback."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from tests.integration.conftest import run_build_py, tiny_platforms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("NO docker-registry: ci/provision.sh installs Debian's docker-registry")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the registry did not start")
            time.sleep(0.2)
    yield address, proc
    proc.kill()
    proc.wait()


def tags(address: str, repository: str) -> list[str]:
    with urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=5) as response:
        return list(json.load(response).get("tags") or [])


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_push_then_pull_instead_of_building_and_registry_down_is_a_warning(
    registry: tuple[str, subprocess.Popen[bytes]], tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    address, proc = registry
    name = f"cached{uuid.uuid4().hex[:8]}"
    docker_dir = tiny_platforms(tmp_path, {name: f"FROM debian:bookworm\nRUN echo {name} > /marker\n"})
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
