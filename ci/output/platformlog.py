"""Do: one platform's output while it runs: every line into its build.log (the harness's own
lines for it too), the last lines kept for its outcome, its phase and latest line told to the
board, and the output shown where the caller says (live, prefixed, or not at all)."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from ci.engine.client import Output
from ci.output import log as ci_log
from ci.output.progress import Progress, phase_of

TAIL_LINES = 50  # kept per run for its outcome (the failure report, known-cause hints)


class PlatformLog:
    """An Output that shows each chunk as it comes and records whole lines."""

    def __init__(self, platform: str, path: Path | None, show: Output, progress: Progress) -> None:
        self.platform = platform
        self.path = path
        self.show = show
        self.progress = progress
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.pending = {False: b"", True: b""}
        self.lock = threading.Lock()
        # Line-buffered: whatever ends the run, the log holds every line written before.
        self.file = path.open("w", encoding="utf-8", errors="replace", buffering=1) if path else None

    def __call__(self, chunk: bytes, is_stderr: bool) -> None:
        self.show(chunk, is_stderr)
        *lines, self.pending[is_stderr] = (self.pending[is_stderr] + chunk).split(b"\n")
        for line in lines:
            self.output_line(line.decode("utf-8", errors="replace"))

    def output_line(self, text: str) -> None:
        text = text.removesuffix("\r")
        self.record(text)
        self.tail.append(text)
        phase = phase_of(text)
        if phase:
            self.progress.state(self.platform, phase)
        else:
            self.progress.line(self.platform, text)

    def record(self, text: str) -> None:
        """A line into the log file only (the harness's own lines come here)."""
        with self.lock:
            if self.file is not None and not self.file.closed:
                self.file.write(text + "\n")

    def flush(self) -> None:
        for is_stderr, rest in self.pending.items():
            self.pending[is_stderr] = b""
            if rest:
                self.output_line(rest.decode("utf-8", errors="replace"))
        flush = getattr(self.show, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        with self.lock:
            if self.file is not None:
                self.file.close()


@contextlib.contextmanager
def opened(platform: str, path: Path | None, show: Output, progress: Progress) -> Iterator[PlatformLog]:
    """The platform's log for the length of its run; the harness's lines logged meanwhile go in
    too, and so does the error that ends it, if one does."""
    plog = PlatformLog(platform, path, show, progress)
    try:
        with ci_log.to_platform_log(plog.record):
            yield plog
    except BaseException as exc:
        plog.flush()
        message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
        hint = getattr(exc, "hint", "")
        plog.record(f"build.py: {message} (hint: {hint})" if hint else f"build.py: {message}")
        progress.state(platform, "failed")
        raise
    finally:
        plog.flush()
        plog.close()
