"""Do: turn SIGINT, SIGTERM and SIGHUP into an exception, so `finally` blocks remove containers;
and hold them off while a container is created and registered."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
RECEIVED: list[int] = []  # every handled signal so far: a swallowed exception cannot hide one


class Interrupted(BaseException):
    """Not an Exception: the handler raises it in whatever the main thread is doing, and an
    `except Exception` there (logging's handleError, a library's retry loop) must not swallow
    it, or the run would go on and create its container after the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    RECEIVED.append(signum)
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, the handled signals raise Interrupted in the main thread."""
    previous = {s: signal.signal(s, _raise_interrupted) for s in HANDLED}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within the block, the handled signals wait (they are delivered when it ends). It is not
    entered at all once a signal came, even if its exception was lost on the way."""
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        if RECEIVED:
            raise Interrupted(RECEIVED[0])
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
