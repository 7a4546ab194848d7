"""The engine restarted in the middle of a run: a clear error, no hang, nothing left behind.
(Marked to run last, alone: it restarts the machine's dockerd.)"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil
import pytest

import docker
from tests.integration.helpers import REPO, ours, start, wait_until_none


def dockerd() -> psutil.Process:
    """The machine's own dockerd; the second engines other tests start have their own data root."""
    found = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "dockerd"
        and not any(a.startswith("--data-root") for a in p.info["cmdline"] or [])
    ]
    if len(found) != 1:
        pytest.skip(f"NOT A LOCAL DOCKERD ({len(found)} found): cannot restart the engine here")
    return found[0]


@pytest.mark.serial
@pytest.mark.last
@pytest.mark.usefixtures("amd64_image")
def test_engine_restart_mid_run(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    engine = dockerd()
    proc = start(tmp_path, "sleep", "120")
    deadline = time.monotonic() + 30
    while not ours(docker_client, owner_pid=str(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ours(docker_client, owner_pid=str(proc.pid))
    engine.terminate()
    engine.wait(timeout=60)
    try:
        status = proc.wait(timeout=30)  # no hang
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        assert status == 75, stderr
        assert "lost the engine" in stderr or "the container failed" in stderr, stderr
        assert "Traceback" not in stderr
    finally:
        subprocess.run([str(REPO / "scripts" / "provision.sh"), "--no-venv"], check=True)
    # The watchdog saw its owner go while the engine was down; it keeps trying, then removes it.
    wait_until_none(docker_client, 60, owner_pid=str(proc.pid))
