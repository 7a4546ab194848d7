"""Decide where each platform of a run is: the phase a step's output line names, what a row of
the live board says (state, elapsed time, latest line), and the Progress a run reports to."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import Protocol

# A line a step prints (alone, on stdout or stderr) to name the phase it enters; the board shows
# the word as the platform's state. runtime_functions.sh's `_phase testing` prints one.
PHASE_RE = re.compile(r"^==> phase: ([a-z][a-z0-9_-]{0,15})\s*$")
FINAL_STATES = ("passed", "failed")
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
