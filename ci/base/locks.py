"""Do: machine-wide file locks that serialise image builds, base bootstraps and runs sharing a build dir."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ci.errors import LockTimeoutError

log = logging.getLogger(__name__)

# One per machine, as the engine is: runs by other users, from other homes, by other Jenkins
# executors wait on the same lock (the FHS place for lock files: root's, world-writable, sticky).
MACHINE_DIR = Path("/run/lock")
PREFIX = "ciharness-"


def user_dir() -> Path:
    """Where locks live when the machine's lock dir cannot be used: this user's cache."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "ciharness" / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_dir() -> Path:
    if MACHINE_DIR.is_dir() and os.access(MACHINE_DIR, os.W_OK | os.X_OK):
        return MACHINE_DIR
    return user_dir()


def open_lock(name: str) -> int:
    """A descriptor of the named lock file, opened read-only (flock needs no more), so a file
    another user made is as usable as one's own; made readable by all where it is missing. A
    machine-wide file this user may not read falls back to a lock in this user's cache."""
    path = lock_dir() / f"{PREFIX}{name}.lock"
    try:
        return _open_or_create(path)
    except PermissionError:
        if path.parent == user_dir():
            raise
        log.debug("cannot open %s; locking in %s instead", path, user_dir())
        return _open_or_create(user_dir() / path.name)


def _open_or_create(path: Path) -> int:
    while True:
        with contextlib.suppress(FileNotFoundError):
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue  # made by another run a moment ago: open that one
        os.fchmod(fd, 0o644)  # whatever this user's umask: every user can open it
        return fd


POLL_SECONDS = 0.05


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(name: str, what: str, timeout: float) -> Iterator[None]:
    """Hold an flock(2) on the named lock file: released when the block ends or the process
    dies, however it dies. Each call opens the file anew, so threads exclude each other too."""
    fd = open_lock(name)
    try:
        if not _try_lock(fd):
            log.info("waiting up to %.0f s for %s (held by another build.py run)", timeout, what)
            deadline = time.monotonic() + timeout if timeout >= 0 else math.inf  # < 0: for ever
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"gave up waiting for {what} after {timeout:.0f} s",
                        hint="another build.py run holds it; wait for it or raise --lock-timeout",
                    )
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing the only descriptor of the open file releases its lock
