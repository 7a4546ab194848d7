"""Process facts read from /proc agree with psutil's; locks exclude, time out, are one per
machine whichever user or home took them, and are released when their holder dies."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ci.base import locks, procs
from ci.errors import LockTimeoutError


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
def name() -> Iterator[str]:
    """A lock of this test's own in the machine's lock dir, removed after."""
    unique = f"test-{uuid.uuid4().hex[:12]}"
    yield unique
    for where in (locks.MACHINE_DIR, locks.user_dir()):
        (where / f"{locks.PREFIX}{unique}.lock").unlink(missing_ok=True)


def test_a_held_lock_times_out_for_the_next_holder_then_frees(name: str) -> None:
    held, refused = (
        locks.locked(name, "the build dir", 0),
        pytest.raises(LockTimeoutError, match="build dir"),
    )
    with held, refused, locks.locked(name, "the build dir", 0.2):
        pass
    with locks.locked(name, "the build dir", 0):
        pass


HOLD = (
    "import os, sys, time; os.umask(0o077); sys.path.insert(0, sys.argv[1]); from ci.base import locks\n"
    "with locks.locked(sys.argv[2], 'it', 0):\n    print('held', flush=True); time.sleep(60)\n"
)


@pytest.fixture
def home() -> Iterator[Path]:
    """Another home, anyone's to write (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="ciharness-lock-home-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def holder(name: str, home: Path, user: int | None = None) -> subprocess.Popen[bytes]:
    """Another run holding the lock: another home and cache (and, given, another user)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(Path(locks.__file__).parents[2]), name],
        stdout=subprocess.PIPE, user=user, env={"PATH": os.environ["PATH"], "HOME": str(home)},
    )  # fmt: skip
    assert proc.stdout and proc.stdout.readline() == b"held\n"
    return proc


def test_a_lock_is_released_when_its_holder_is_killed(name: str, home: Path) -> None:
    proc = holder(name, home)
    with pytest.raises(LockTimeoutError), locks.locked(name, "it", 0.1):
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with locks.locked(name, "it", 5):
        pass


ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="NOT ROOT: cannot start a run as another user")


@ROOT_ONLY
def test_a_lock_is_one_for_the_machine_whichever_user_and_home_took_it(name: str, home: Path) -> None:
    """A run of another user, from another home and with umask 077, holds the lock this run
    waits on (the image both would build is one image of one engine)."""
    proc = holder(name, home, user=65534)
    try:
        lock_file = locks.MACHINE_DIR / f"{locks.PREFIX}{name}.lock"
        assert lock_file.stat().st_uid == 65534 and lock_file.stat().st_mode & 0o777 == 0o644
        with pytest.raises(LockTimeoutError), locks.locked(name, "it", 0.1):
            pass
    finally:
        proc.kill()
        proc.wait()
    with locks.locked(name, "it", 5):
        pass


@ROOT_ONLY
def test_a_lock_file_this_user_cannot_open_falls_back_to_its_own_cache(name: str, home: Path) -> None:
    lock_file = locks.MACHINE_DIR / f"{locks.PREFIX}{name}.lock"
    lock_file.touch(mode=0o600)
    proc = holder(name, home, user=65534)
    try:
        assert (home / ".cache" / "ciharness" / "locks" / lock_file.name).is_file()
    finally:
        proc.kill()
        proc.wait()
