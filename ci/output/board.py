"""Do: the live board of a multi-platform run, one row per platform (state, elapsed time, latest
output line), redrawn in place by rich. Imported only when a board is shown (rich takes a while
to load, and most runs have no board)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator, Sequence

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ci.output import log as ci_log
from ci.output.progress import FINAL_STATES, Row, elapsed_text, printable

STATE_STYLES = {"waiting": "dim", "image": "cyan", "passed": "green", "failed": "bold red"}


class Board:
    """Every platform's row, updated from the worker threads, drawn on stderr a few times a second."""

    def __init__(self, platforms: Sequence[str]) -> None:
        self.rows = {name: Row() for name in platforms}
        self.lock = threading.Lock()
        # A board is only made when asked for (--progress tty) or stderr is a terminal: draw it.
        self.console = Console(file=sys.stderr, force_terminal=True)

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
