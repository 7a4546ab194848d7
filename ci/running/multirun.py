"""Do: run several platforms at once, each output line prefixed (or shown by the board
instead), then report every outcome.

Containers started by any worker are tracked in one registry, so a signal (handled in the main
thread) or --fail-fast can remove them all.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence

from ci.engine.client import Output
from ci.output.outcomes import Outcome
from ci.running.containers import LiveContainers
from ci.running.signals import Interrupted

log = logging.getLogger(__name__)

_write_lock = threading.Lock()


class PrefixedOutput:
    """An Output that writes whole lines, each starting with '[platform] '."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode()
        self.pending = {False: b"", True: b""}

    def __call__(self, chunk: bytes, is_stderr: bool) -> None:
        data = self.pending[is_stderr] + chunk
        *lines, rest = data.split(b"\n")
        self.pending[is_stderr] = rest
        if lines:
            self._write(b"".join(self.prefix + line + b"\n" for line in lines), is_stderr)

    def flush(self) -> None:
        for is_stderr, rest in self.pending.items():
            if rest:
                self._write(self.prefix + rest + b"\n", is_stderr)
            self.pending[is_stderr] = b""

    @staticmethod
    def _write(data: bytes, is_stderr: bool) -> None:
        stream = sys.stderr.buffer if is_stderr else sys.stdout.buffer
        with _write_lock:
            stream.write(data)
            stream.flush()


Work = Callable[[Output], Outcome]


def unseen(chunk: bytes, is_stderr: bool) -> None:
    """Under the board a platform's output goes only to its log and its row."""


def run_all(
    works: Sequence[tuple[str, Work]],
    *,
    parallel: int,
    fail_fast: bool,
    live: LiveContainers,
    prefixed: bool = True,
    ended: Callable[[Outcome], None] = lambda _outcome: None,
) -> list[Outcome]:
    """Run every platform's work, at most `parallel` at once; outcomes in the order given, each
    also told to `ended` as it comes (so a run that a signal ends still knows them)."""
    outcomes: dict[str, Outcome] = {}
    stop = threading.Event()

    def one(name: str, work: Work) -> Outcome:
        if stop.is_set():
            skipped = Outcome(platform=name, status=1, seconds=0.0, error="not run (--fail-fast)", ran=False)
            ended(skipped)
            return skipped
        output = PrefixedOutput(f"[{name}] ") if prefixed else None
        started = time.monotonic()
        try:
            outcome = work(output or unseen)
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            code = int(getattr(exc, "code", 1))
            log.error("%s: %s", name, message)
            outcome = Outcome(
                platform=name, status=code, seconds=time.monotonic() - started, error=message[:60]
            )
        finally:
            if output is not None:
                output.flush()
        ended(outcome)
        if outcome.status != 0 and fail_fast and not stop.is_set():
            stop.set()
            log.error("%s failed; --fail-fast stops the others", name)
            live.remove_all()
        return outcome

    # Not `with`: its exit waits for every worker, and after a signal a worker may be busy for
    # long (a lock wait, an image build); the registered containers go now, the rest with us.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel))
    futures = {pool.submit(one, name, work): name for name, work in works}
    pending = set(futures)
    try:
        while pending:
            done, pending = concurrent.futures.wait(pending, timeout=0.5)
            for future in done:
                outcomes[futures[future]] = future.result()
    except Interrupted:
        stop.set()
        live.remove_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[name] for name, _ in works]
