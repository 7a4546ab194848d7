"""No container outlives its run, whatever kills it; concurrency, timeouts, cleanup, faults."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

import docker
from tests.integration.helpers import (
    BUILD_PY,
    container_names,
    leftovers,
    run_build_py,
    start,
    wait_until_none,
)

CHAOS_TRIALS = int(os.environ.get("CHAOS_TRIALS", "30"))


@pytest.mark.serial  # removals timed to 1.5 s; SIGKILLed owners leave containers for the watchdog
@pytest.mark.usefixtures("amd64_image")
def test_chaos_signals_at_random_moments_leave_no_container(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "4")))
    tally: dict[str, int] = {}
    for trial in range(CHAOS_TRIALS):
        sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
        delay = rng.uniform(0.0, 1.2)  # start-up, image resolution, creation, running
        proc = start(tmp_path, "sleep", "30")
        time.sleep(delay)
        proc.send_signal(sig)
        status = proc.wait(timeout=20)
        limit = 5.0 if sig == signal.SIGKILL else 1.5
        wait_until_none(docker_client, limit, owner_pid=str(proc.pid))
        if sig == signal.SIGKILL:
            assert status == -signal.SIGKILL
        else:
            # 128+N once build.py's handlers are in; before its first line runs, the default
            # action (death by the signal) is all there is, and no container exists yet.
            assert status in (128 + sig, -sig), (
                trial,
                sig,
                delay,
                status,
                proc.stderr.read() if proc.stderr else b"",
            )
        tally[sig.name] = tally.get(sig.name, 0) + 1
    assert sum(tally.values()) == CHAOS_TRIALS
    assert leftovers(docker_client) == []  # other sessions' live runs may share the engine


@pytest.mark.serial  # its SIGKILLed run leaves a container for the watchdog (10 s)
@pytest.mark.usefixtures("amd64_image")
def test_jenkins_process_tree_killer_reaches_the_container(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    cookie = uuid.uuid4().hex
    proc = start(tmp_path, "sleep", "120", env={"JENKINS_NODE_COOKIE": cookie, "BUILD_TAG": "jenkins-job-1"})

    def carrying_cookie() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["pid", "name"]):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if p.pid != os.getpid() and p.environ().get("JENKINS_NODE_COOKIE") == cookie:
                    found.append(p)
        return found

    deadline = time.monotonic() + 30
    while "sleep" not in [p.info["name"] for p in carrying_cookie()] and time.monotonic() < deadline:
        time.sleep(0.1)
    # Play Jenkins: kill every process whose environment carries the build's cookie. (Killing the
    # container's init first may take `sleep` with it before its own kill: reached is what counts.)
    targets = carrying_cookie()
    reached = [p.info["name"] for p in targets]
    assert "sleep" in reached, reached  # the process inside the container was reachable
    for p in targets:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    assert proc.wait(timeout=10) == -signal.SIGKILL
    wait_until_none(docker_client, 10, owner_pid=str(proc.pid))


@pytest.mark.serial  # timed: a 2 s timeout must end the run within 15 s
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_timeout_kills_and_removes_the_container(tmp_path: Path) -> None:
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(tmp_path / "b"), "--timeout", "2", "--", "sleep", "60"
    )
    assert result.returncode == 124
    assert result.seconds < 15
    assert "--timeout 2 s" in result.stderr


@pytest.mark.serial  # its orphans (and --cleanup) would be any other test's leftovers
@pytest.mark.usefixtures("amd64_image")
def test_cleanup_removes_orphans_only(
    docker_client: docker.DockerClient, amd64_image: str, tmp_path: Path
) -> None:
    me = psutil.Process()
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = __import__("socket").gethostname()

    def make(name: str, labels: dict[str, str]) -> None:
        docker_client.containers.create(amd64_image, ["sleep", "60"], name=name, labels=labels)

    tag = uuid.uuid4().hex[:8]
    base = {"io.ciharness.run-id": tag, "io.ciharness.owner-host": host, "io.ciharness.platform": "amd64"}
    make(
        f"orphan-{tag}", {**base, "io.ciharness.owner-pid": str(dead.pid), "io.ciharness.owner-start": "1.0"}
    )
    make(
        f"live-{tag}",
        {
            **base,
            "io.ciharness.owner-pid": str(me.pid),
            "io.ciharness.owner-start": f"{me.create_time():.2f}",
        },
    )
    make(
        f"elsewhere-{tag}",
        {
            **base,
            "io.ciharness.owner-host": "another-host",
            "io.ciharness.owner-pid": "1",
            "io.ciharness.owner-start": "1.0",
        },
    )
    make(f"notours-{tag}", {"owner": "someone"})
    try:
        result = run_build_py("--cleanup")
        assert result.returncode == 0, result.stderr
        assert f"orphan-{tag}" in result.stdout
        names = set(container_names(docker_client))
        assert f"orphan-{tag}" not in names
        assert {f"live-{tag}", f"elsewhere-{tag}", f"notours-{tag}"} <= names
        # Every run reaps at start too.
        make(
            f"orphan2-{tag}",
            {**base, "io.ciharness.owner-pid": str(dead.pid), "io.ciharness.owner-start": "1.0"},
        )
        run = run_build_py("-p", "amd64", "--build-dir", str(tmp_path / "b"), "--", "true")
        assert run.returncode == 0 and f"orphan2-{tag}" in run.stderr
        assert f"orphan2-{tag}" not in container_names(docker_client)
    finally:
        for name in ("orphan", "live", "elsewhere", "notours", "orphan2"):
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.containers.get(f"{name}-{tag}").remove(force=True)


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_eight_concurrent_runs_share_one_ccache(tmp_path: Path, amd64_image: str) -> None:
    ccache = tmp_path / "ccache"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(BUILD_PY),
                "-p",
                "amd64",
                "--build-dir",
                str(tmp_path / f"b{i}"),
                "--ccache-dir",
                str(ccache),
                "--build-jobs",
                "1",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for proc in procs:
        assert proc.wait(timeout=900) == 0, proc.stderr.read() if proc.stderr else b""
    stats = subprocess.run(
        ["docker", "run", "--rm", "-u", f"{os.getuid()}:{os.getgid()}", "-e", "CCACHE_DIR=/c",
         "-v", f"{ccache}:/c", amd64_image, "ccache", "--print-stats"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counters = dict(line.split("\t", 1) for line in stats.splitlines() if "\t" in line)
    error_counters = [k for k in counters if "error" in k or k in ("internal_error", "bad_output_file")]
    assert all(counters[k].strip() == "0" for k in error_counters), {k: counters[k] for k in error_counters}
    assert int(counters.get("direct_cache_hit", "0")) + int(counters.get("preprocessed_cache_hit", "0")) > 0


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_secrets_are_masked_in_the_printed_line(tmp_path: Path) -> None:
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(tmp_path / "b"), "--print-docker-run",
        "-e", "API_TOKEN=hunter2", "-e", "PLAIN=visible", "--", "true",
    )  # fmt: skip
    assert result.returncode == 0
    assert "hunter2" not in result.stdout + result.stderr
    assert "--env API_TOKEN " in result.stdout and "PLAIN=visible" in result.stdout
    assert "--privileged" not in result.stdout and "docker.sock" not in result.stdout
