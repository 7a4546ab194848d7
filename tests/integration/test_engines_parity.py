"""The same guarantees on both engines: every test here runs against Docker and against podman
(through its Docker-compatible API service, which build.py starts when none is running)."""

from __future__ import annotations

import os
import pwd
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import (
    BUILD_PY,
    LABEL,
    as_user,
    container_names,
    drive_pty,
    leftovers,
    run_build_py,
    tiny_platforms,
)

PODMAN_SOCKET = "unix:///run/podman/podman.sock"
CHAOS_TRIALS = int(os.environ.get("CHAOS_TRIALS_PODMAN", "12"))


def client_for(kind: str) -> docker.DockerClient:
    return docker.DockerClient(base_url=PODMAN_SOCKET) if kind == "podman" else docker.from_env()


def ours(kind: str, **labels: str) -> list[str]:
    filters = [LABEL] + [f"io.ciharness.{k.replace('_', '-')}={v}" for k, v in labels.items()]
    client = client_for(kind)
    try:
        return container_names(client, filters)
    finally:
        client.close()


@pytest.fixture
def none_left(engine: str) -> Iterator[None]:
    yield
    client = client_for(engine)
    try:
        assert leftovers(client) == []
    finally:
        client.close()


@pytest.mark.usefixtures("none_left")
def test_build_and_ctest_native_and_under_qemu(engine: str, tmp_path: Path) -> None:
    result = run_build_py("--engine", engine, "-p", "amd64,armv7", "--build-dir", str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr[-3000:]
    for name, bits in (("amd64", 64), ("armv7", 32)):
        junit = (tmp_path / f"b.{name}" / "junit" / f"ctest-{name}.xml").read_text()
        assert ET.fromstring(junit).get("failures") == "0"
        assert f"on a {bits}-bit little-endian target: 0 failure(s)" in junit


@pytest.mark.usefixtures("none_left")
@pytest.mark.parametrize("status", [0, 7])
def test_exit_status_passes_through(engine: str, tmp_path: Path, status: int) -> None:
    result = run_build_py("--engine", engine, "-p", "amd64", "--build-dir", str(tmp_path / "b"),
                          "--", "sh", "-c", f"exit {status}")  # fmt: skip
    assert result.returncode == status


@pytest.mark.usefixtures("none_left")
def test_printed_line_names_the_engine_and_runs_the_same(engine: str, tmp_path: Path) -> None:
    args = ["--engine", engine, "-p", "amd64", "--build-dir", str(tmp_path / "b"),
            "--", "sh", "-c", "id -u; pwd; echo $CI_PLATFORM; cat /proc/1/comm"]  # fmt: skip
    line = run_build_py(*args[:6], "--print-docker-run", *args[6:]).stdout.strip()
    assert line.startswith(f"{engine} run --rm --init ")
    if engine == "podman":
        assert "--ulimit nofile=" in line and "--ulimit nproc=" in line
    (tmp_path / "b").mkdir(exist_ok=True)  # --print-docker-run made its layer dirs
    by_hand = subprocess.run(shlex.split(line), capture_output=True, text=True, check=False)
    assert by_hand.returncode == 0, by_hand.stderr
    assert run_build_py(*args).stdout == by_hand.stdout


@pytest.mark.usefixtures("none_left")
def test_interactive_shell(engine: str, tmp_path: Path) -> None:
    argv = [sys.executable, str(BUILD_PY), "--engine", engine, "-p", "amd64", "-i",
            "--build-dir", str(tmp_path / "b")]  # fmt: skip
    status, shown = drive_pty(argv, b"echo engine-ok-$((40+2)); exit 5\n")
    assert "engine-ok-42" in shown, shown
    assert status == 5


@pytest.mark.usefixtures("none_left")
def test_timeout(engine: str, tmp_path: Path) -> None:
    result = run_build_py("--engine", engine, "-p", "amd64", "--build-dir", str(tmp_path / "b"),
                          "--timeout", "2", "--", "sleep", "60")  # fmt: skip
    assert result.returncode == 124


@pytest.mark.serial  # removals timed to 1.5 s; SIGKILLed owners leave containers for the watchdog
def test_chaos_signals(engine: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    for _ in range(CHAOS_TRIALS):
        sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
        proc = subprocess.Popen(
            [sys.executable, str(BUILD_PY), "--engine", engine, "-p", "amd64",
             "--build-dir", str(tmp_path / "b"), "--", "sleep", "30"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(sig)
        status = proc.wait(timeout=30)
        assert status in (128 + sig, -sig)
        deadline = time.monotonic() + (5.0 if sig == signal.SIGKILL else 1.5)
        while ours(engine, owner_pid=str(proc.pid)):
            assert time.monotonic() < deadline, (sig, ours(engine))
            time.sleep(0.05)


def test_files_belong_to_the_invoking_user(engine: str, rootless_user: pwd.struct_passwd) -> None:
    """Docker: a user in the docker group. Podman: the same user, rootless (its own service)."""
    work = Path(tempfile.mkdtemp(prefix="ciharness-owner-"))
    os.chown(work, rootless_user.pw_uid, rootless_user.pw_gid)
    try:
        docker_dir = tiny_platforms(work, {"tiny": "FROM debian:trixie\n"})
        if engine == "podman":  # the user's own image store: hand it the base image
            saved = work / "base.tar"
            subprocess.run(
                ["podman", "save", "-o", str(saved), "docker.io/library/debian:trixie"], check=True
            )
            saved.chmod(0o644)
            loaded = as_user(rootless_user, ["podman", "load", "-i", str(saved)], work)
            assert loaded.returncode == 0, loaded.stderr
        result = as_user(
            rootless_user,
            [sys.executable, str(BUILD_PY), "--engine", engine, "-p", "tiny", "--docker-dir", str(docker_dir),
             "--build-dir", str(work / "b"), "--ccache-dir", str(work / "c"),
             "--", "sh", "-c", "mkdir -p sub && touch sub/file top && id -u"],
            work,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == str(rootless_user.pw_uid)
        owners = {p.lstat().st_uid for p in [work / "b", *(work / "b").rglob("*")]}
        assert owners == {rootless_user.pw_uid}
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.xdist_group("podman")
@pytest.mark.parametrize("engine", ["podman"], indirect=True)  # Docker's engine is a system service
def test_podman_service_outlives_the_directory_it_was_started_from(
    engine: str, rootless_user: pwd.struct_passwd
) -> None:
    """build.py starts the user's podman service and it keeps running; the next run must not
    depend on the first one's working directory still existing (a CI workspace is removed)."""
    subprocess.run(["pkill", "-u", rootless_user.pw_name, "-f", "podman system service"], check=False)
    time.sleep(1)
    runs = []
    for _ in range(2):
        work = Path(tempfile.mkdtemp(prefix="ciharness-cwd-"))
        os.chown(work, rootless_user.pw_uid, rootless_user.pw_gid)
        argv = [sys.executable, str(BUILD_PY), "--engine", "podman", "-p", "amd64", "--source-mode",
                "read-only", "--build-dir", str(work / "b"), "--ccache-dir", str(work / "c"),
                "--", "echo", "ran"]  # fmt: skip
        try:
            runs.append(as_user(rootless_user, argv, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)  # the first run's directory is gone for the second
    for result in runs:
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == "ran"
