"""A platform mapped to a second, real Docker engine (its own dockerd on a loopback TCP port and
its own data root): builds, runs, copies results back, and cleans up there as on the first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import (
    BUILD_PY,
    container_names,
    free_port,
    run_build_py,
    tiny_platforms,
)

# The second engine is conftest's `second_engine` fixture (shared with test_split_release.py).


def containers_on(url: str) -> list[str]:
    client = docker.DockerClient(base_url=url)
    try:
        return container_names(client, ["io.ciharness.run-id"])
    finally:
        client.close()


@pytest.mark.xdist_group("second-engine")  # one worker starts the second dockerd
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_platform_builds_and_tests_on_its_mapped_engine(
    second_engine: str, cache_registry: str, tmp_path: Path
) -> None:
    # Scale-out as a site would: this machine pushes its image to a registry cache, and the other
    # engine takes it from there instead of building (its containers have no outside network).
    registry = cache_registry
    pushed = run_build_py("-p", "amd64", "-b", "--docker-registry", registry, "--push-cache")
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    build = tmp_path / "build"
    result = run_build_py(
        "-p", "amd64", "--docker-host", f"amd64={second_engine}", "--docker-registry", registry,
        "--build-dir", str(build), timeout=1800,
    )  # fmt: skip
    assert "pulled" in result.stderr and "building image" not in result.stderr
    assert result.returncode == 0, result.stderr[-4000:]
    suite = ET.parse(build / "junit" / "ctest-amd64.xml").getroot()  # copied back from the engine
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 12
    assert (build / "xsum").is_file() and os.access(build / "xsum", os.X_OK)
    assert {p.stat().st_uid for p in build.rglob("*")} == {os.getuid()}
    client = docker.DockerClient(base_url=second_engine)
    try:
        assert client.images.list(name="ciharness/amd64"), "the image was built on the second engine"
        assert client.volumes.get("ciharness-ccache")
    finally:
        client.close()
    assert containers_on(second_engine) == []

    again = run_build_py(
        "-p", "amd64", "--docker-host", f"amd64={second_engine}", "--build-dir", str(tmp_path / "b2")
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.returncode == 0 and "100%" in again.stderr  # ccache volume on that engine is warm


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_unreachable_engine_fails_its_platform_only(tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {"near": "FROM debian:trixie\n", "far": "FROM debian:trixie\n"})
    result = run_build_py(
        "-p", "near,far", "--docker-dir", str(docker_dir), "--build-dir", str(tmp_path / "b"),
        "--docker-host", f"far=tcp://127.0.0.1:{free_port()}", "--", "echo", "ran",
    )  # fmt: skip
    assert result.returncode == 69
    assert "[near] ran" in result.stdout and "[far] ran" not in result.stdout
    assert "cannot reach the Docker engine at tcp://127.0.0.1" in result.stderr


@pytest.mark.xdist_group("second-engine")  # one worker starts the second dockerd
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_build_log_is_written_here_never_copied_back(second_engine: str, tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {"far": "FROM debian:trixie\n"})
    build = tmp_path / "b"
    result = run_build_py(
        "-p", "far", "--docker-dir", str(docker_dir), "--docker-host", f"far={second_engine}",
        "--build-dir", str(build), "--", "bash", "-c", "echo the copy > build.log; echo made; echo streamed",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "made\nstreamed\n"
    log = (build / "build.log").read_text().splitlines()
    assert "streamed" in log and "made" in log and "the copy" not in log
    assert any(line.startswith("build.py: far: running bash -c") for line in log)


@pytest.mark.serial  # the watchdog is timed (5 s) after a SIGKILL
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_timeout_and_sigkill_clean_up_on_the_remote_engine(second_engine: str, tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {"far": "FROM debian:trixie\n"})
    common = ["-p", "far", "--docker-dir", str(docker_dir), "--docker-host", f"far={second_engine}"]
    timed = run_build_py(*common, "--build-dir", str(tmp_path / "t"), "--timeout", "2", "--", "sleep", "60")
    assert timed.returncode == 124, timed.stderr[-2000:]
    assert containers_on(second_engine) == []

    proc = subprocess.Popen(
        [sys.executable, str(BUILD_PY), *common, "--build-dir", str(tmp_path / "k"), "--", "sleep", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not containers_on(second_engine):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while containers_on(second_engine):
        assert time.monotonic() < deadline, "the watchdog did not clean the remote engine"
        time.sleep(0.05)


@pytest.mark.xdist_group("second-engine")  # one worker starts the second dockerd
@pytest.mark.usefixtures("amd64_image")
def test_cleanup_reaches_every_named_engine(second_engine: str, tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {"far": "FROM debian:trixie\n"})
    built = run_build_py(
        "-p", "far", "--docker-dir", str(docker_dir), "--docker-host", f"far={second_engine}", "-b"
    )
    assert built.returncode == 0, built.stderr[-2000:]
    dead = subprocess.Popen(["true"])
    dead.wait()
    client = docker.DockerClient(base_url=second_engine)
    try:
        name = f"orphan-far-{dead.pid}"
        client.containers.create(
            built.stdout.strip(), ["sleep", "60"], name=name,
            labels={"io.ciharness.run-id": "x", "io.ciharness.owner-host": __import__("socket").gethostname(),
                    "io.ciharness.owner-pid": str(dead.pid), "io.ciharness.owner-start": "1.0"},
        )  # fmt: skip
        result = run_build_py("--cleanup", "--docker-host", f"far={second_engine}")
        assert result.returncode == 0, result.stderr
        assert name in result.stdout
        assert name not in container_names(client)
    finally:
        client.close()


@pytest.mark.xdist_group("second-engine")  # one worker starts the second dockerd
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_projects_image_is_made_on_the_engine_its_platform_runs_on(
    second_engine: str, tmp_path: Path
) -> None:
    """The project file's pre-build makes the project's image on the remote engine (none here),
    and the run there uses it. (Its containers reach no network: no packages here.)"""
    docker_dir = tiny_platforms(tmp_path, {"far": "FROM debian:trixie\n"})
    src = tmp_path / "src"
    src.mkdir()
    (src / "ciharness.toml").write_text(
        'pre-build = ["echo made-remotely for $CI_TARGET_DEBIAN_ARCH > /etc/ciharness-made"]\n',
        encoding="utf-8",
    )
    local_before = {t for i in docker.from_env().images.list() for t in i.tags}
    result = run_build_py(
        "-p", "far", "--docker-dir", str(docker_dir), "--docker-host", f"far={second_engine}",
        "--source", str(src), "--build-dir", str(tmp_path / "b"), "--", "cat", "/etc/ciharness-made",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == "made-remotely for amd64\n"
    remote = docker.DockerClient(base_url=second_engine)
    try:
        made = [
            t
            for i in remote.images.list()
            for t in i.tags
            if t.startswith("ciharness/far:") and "-project-" in t
        ]
    finally:
        remote.close()
    assert made
    local_after = {t for i in docker.from_env().images.list() for t in i.tags}
    # far's project image only: other tests make project images of other platforms meanwhile
    assert not [t for t in local_after - local_before if t.startswith("ciharness/far:") and "-project-" in t]
