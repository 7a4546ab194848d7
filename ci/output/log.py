"""Logging setup: the only place that installs handlers. Library modules just log; a platform's
own lines also go to its build.log, and under the live board the console writes above it."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

import colorlog

from ci.base import procs

# --debug stamps each line with the time since this process started (a start-up profile; the
# process is the one ./build.py's sh prologue began in), both read on the boot clock.
STARTED = procs.started_after_boot(os.getpid())


class _SinceStart(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.since_start = f"{time.clock_gettime(time.CLOCK_BOOTTIME) - STARTED:6.3f}s"
        return True


# Where the current platform's harness lines go besides the console (its build.log); set per
# thread of work by to_platform_log.
_platform_sink: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "platform_sink", default=None
)
_console = logging.StreamHandler(sys.stderr)


class _ToPlatformLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = _platform_sink.get()
        if sink is not None:
            sink(self.format(record))


class _PlatformInfoToLogOnly(logging.Filter):
    """Under the board a platform's info lines are in its log and its row; warnings still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or _platform_sink.get() is None


def setup(debug: bool = False) -> None:
    global _console  # noqa: PLW0603 (the one console handler, swapped by console_to)
    _console = colorlog.StreamHandler(sys.stderr)
    _console.setFormatter(
        colorlog.ColoredFormatter(
            "%(log_color)sbuild.py: %(since_start)s %(levelname)s:%(reset)s %(message)s"
            if debug
            else "%(log_color)sbuild.py:%(reset)s %(message)s",
            log_colors={"DEBUG": "cyan", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"},
            stream=sys.stderr,
        )
    )
    to_log = _ToPlatformLog()
    to_log.setFormatter(logging.Formatter("build.py: %(message)s"))
    if debug:
        _console.addFilter(_SinceStart())
    root = logging.getLogger("ci")
    root.handlers[:] = [_console, to_log]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    # The Docker SDK and urllib3 log request details (environment included) at DEBUG: keep them
    # quiet even under --debug so secrets never reach CI logs.
    for noisy in ("docker", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def to_platform_log(write: Callable[[str], None]) -> Iterator[None]:
    """Harness lines logged by this thread of work also go to write (the platform's log)."""
    token = _platform_sink.set(write)
    try:
        yield
    finally:
        _platform_sink.reset(token)


@contextlib.contextmanager
def console_to(stream: TextIO) -> Iterator[None]:
    """The console handler writes to stream (the board's, which prints above it), and keeps a
    platform's info lines to its log, while the board shows."""
    only_warnings = _PlatformInfoToLogOnly()
    previous = _console.setStream(stream)
    _console.addFilter(only_warnings)
    try:
        yield
    finally:
        _console.removeFilter(only_warnings)
        if previous is not None:
            _console.setStream(previous)
