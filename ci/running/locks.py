"""Do: file locks that serialise image builds, base bootstraps and runs sharing a build dir."""

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


def lock_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "ciharness" / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    fd = os.open(lock_dir() / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
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
