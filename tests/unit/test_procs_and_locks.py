"""Process facts read from /proc agree with psutil's; build-dir locks exclude, time out, and
are released when their holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from ci.errors import LockTimeoutError
from ci.running import locks, procs


def test_start_time_is_psutils_create_time() -> None:
    for pid in (1, os.getpid(), os.getppid()):
        assert procs.start_time(pid) == pytest.approx(psutil.Process(pid).create_time(), abs=0.005)


def test_a_process_that_is_gone_has_no_start_time() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    with pytest.raises(ProcessLookupError):
        procs.start_time(child.pid)


def test_available_memory_is_psutils() -> None:
    assert procs.available_memory() == pytest.approx(psutil.virtual_memory().available, rel=0.05)


@pytest.fixture
def lock_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.usefixtures("lock_home")
def test_a_held_lock_times_out_for_the_next_holder_then_frees() -> None:
    held, refused = (
        locks.locked("dir", "the build dir", 0),
        pytest.raises(LockTimeoutError, match="build dir"),
    )
    with held, refused, locks.locked("dir", "the build dir", 0.2):
        pass
    with locks.locked("dir", "the build dir", 0):
        pass


def test_a_lock_is_released_when_its_holder_is_killed(lock_home: Path) -> None:
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from ci.running import locks\n"
        "with locks.locked('dir', 'it', 0):\n    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(Path(locks.__file__).parents[1])],
        stdout=subprocess.PIPE, env={**os.environ, "XDG_CACHE_HOME": str(lock_home)},
    )  # fmt: skip
    assert holder.stdout and holder.stdout.readline() == b"held\n"
    with pytest.raises(LockTimeoutError), locks.locked("dir", "it", 0.1):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with locks.locked("dir", "it", 5):
        pass
