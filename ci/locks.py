"""Do: file locks that serialise image builds, base bootstraps and runs sharing a build dir."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import filelock

from ci.errors import LockTimeoutError

log = logging.getLogger(__name__)


def lock_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "ciharness" / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(name: str, what: str, timeout: float) -> Iterator[None]:
    lock = filelock.FileLock(str(lock_dir() / f"{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.info("waiting up to %.0f s for %s (held by another build.py run)", timeout, what)
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout as exc:
            raise LockTimeoutError(
                f"gave up waiting for {what} after {timeout:.0f} s",
                hint="another build.py run holds it; wait for it or raise --lock-timeout",
            ) from exc
    try:
        yield
    finally:
        lock.release()
