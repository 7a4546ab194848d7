"""The live board of a multi-platform run: one row per platform (state, elapsed time, latest
output line), redrawn in place by rich. Deciding what a row says is pure; showing it is rich's."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ci import log as ci_log

# A line a step prints (alone, on stdout or stderr) to name the phase it enters; the board shows
# the word as the platform's state. runtime_functions.sh's `_phase testing` prints one.
PHASE_RE = re.compile(r"^==> phase: ([a-z][a-z0-9_-]{0,15})\s*$")
FINAL_STATES = ("passed", "failed")
STATE_STYLES = {"waiting": "dim", "image": "cyan", "passed": "green", "failed": "bold red"}
_CONTROL_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def phase_of(line: str) -> str | None:
    match = PHASE_RE.match(line)
    return match.group(1) if match else None


def printable(line: str) -> str:
    """A line as one row can show it: no colour codes, carriage returns or other controls."""
    return _CONTROL_RE.sub("", line.rsplit("\r", 1)[-1].replace("\t", " ")).strip()


def elapsed_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"


@dataclasses.dataclass
class Row:
    state: str = "waiting"
    started: float | None = None
    ended: float | None = None
    line: str = ""

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now) - self.started


class Progress(Protocol):
    """Told where each platform is; the board shows it, plain output ignores it."""

    def state(self, platform: str, state: str) -> None: ...
    def line(self, platform: str, text: str) -> None: ...
    def shown(self) -> contextlib.AbstractContextManager[None]: ...


class Quiet:
    """Progress for plain output: prefixed lines already say it all."""

    def state(self, platform: str, state: str) -> None:
        pass

    def line(self, platform: str, text: str) -> None:
        pass

    def shown(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class Board:
    """Every platform's row, updated from the worker threads, drawn on stderr a few times a second."""

    def __init__(self, platforms: Sequence[str], *, force_terminal: bool = False) -> None:
        self.rows = {name: Row() for name in platforms}
        self.lock = threading.Lock()
        self.console = Console(file=sys.stderr, force_terminal=force_terminal or None)

    def state(self, platform: str, state: str) -> None:
        now = time.monotonic()
        with self.lock:
            row = self.rows[platform]
            if row.started is None and state != "waiting":
                row.started = now
            if state in FINAL_STATES and row.ended is None:
                row.ended = now
            row.state = state

    def line(self, platform: str, text: str) -> None:
        shown = printable(text)
        if shown:
            with self.lock:
                self.rows[platform].line = shown

    def render(self) -> Table:
        now = time.monotonic()
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        with self.lock:
            for name, row in self.rows.items():
                table.add_row(
                    name,
                    Text(row.state, style=STATE_STYLES.get(row.state, "yellow")),
                    elapsed_text(row.elapsed(now)),
                    Text(row.line, style="dim"),
                )
        return table

    @contextlib.contextmanager
    def shown(self) -> Iterator[None]:
        """Drawn while the platforms run; gone when they end (the summary table takes its
        place). Log lines print above it."""
        # sys.stderr is read once Live has started: it is then rich's stand-in, which prints above.
        with (
            Live(
                get_renderable=self.render,
                console=self.console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=True,
                redirect_stderr=True,
            ),
            ci_log.console_to(sys.stderr),
        ):
            yield
