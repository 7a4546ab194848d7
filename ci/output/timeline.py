"""Where a run's time went: the Recorder (a Progress that notes when each platform entered each
state and what each platform's run ended in, passing everything on to the board or to plain
output), the phases as bars on one time axis (pure), and those bars drawn as inline SVG."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence

from ci.output.outcomes import Outcome
from ci.output.progress import FINAL_STATES, Progress, Quiet

# A state word -> what the report calls that phase. Other words (a step's own `==> phase:`
# lines) are shown as they are.
PHASE_NAMES = {
    "waiting": "waiting for a worker",
    "image": "image",
    "building": "configure + build",
    "testing": "tests",
}
PHASE_COLOURS = {"waiting": "#c9ced6", "image": "#5b8def", "building": "#f0a830", "testing": "#3fb27f"}
OTHER_COLOUR = "#a57fd8"


def escape(text: str) -> str:
    """Text as HTML shows it, in content and in quoted attributes (html.escape, without loading
    the html package and its table of entities at every run's start)."""
    for plain, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        text = text.replace(plain, entity)
    return text


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bar:
    """One phase of one platform, in seconds since the run started."""

    platform: str
    phase: str  # the state word
    start: float
    end: float
    unfinished: bool = False  # still going when the run ended (a signal, an error)

    @property
    def label(self) -> str:
        return PHASE_NAMES.get(self.phase, self.phase)


class Recorder:
    """A Progress that records every platform's states with the time they came, and the outcomes
    as the platforms end; told from the worker threads."""

    def __init__(self, platforms: Sequence[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.started_wall = time.time()
        self.platforms = list(platforms)
        self.inner: Progress = Quiet()
        self.events: dict[str, list[tuple[float, str]]] = {name: [] for name in platforms}
        self.outcomes: dict[str, Outcome] = {}
        self.ended: dict[str, float] = {}  # when each outcome came
        self.lock = threading.Lock()

    def now(self) -> float:
        return self.clock() - self.started

    def state(self, platform: str, state: str) -> None:
        with self.lock:
            self.events.setdefault(platform, []).append((self.now(), state))
        self.inner.state(platform, state)

    def line(self, platform: str, text: str) -> None:
        self.inner.line(platform, text)

    def shown(self) -> contextlib.AbstractContextManager[None]:
        return self.inner.shown()

    def outcome(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes[outcome.platform] = outcome
            self.ended.setdefault(outcome.platform, self.now())

    def last_state(self, platform: str) -> str:
        with self.lock:
            seen = self.events.get(platform) or [(0.0, "waiting")]
            return seen[-1][1]

    def first_state_at(self, platform: str) -> float | None:
        """When the platform left waiting (None: it never did)."""
        with self.lock:
            seen = self.events.get(platform)
            return seen[0][0] if seen else None

    def bars(self) -> list[Bar]:
        """Every platform's phases so far (those still going end now, marked unfinished)."""
        now = self.now()
        with self.lock:
            events = {name: list(seen) for name, seen in self.events.items()}
            ended = dict(self.ended)
        return [bar for name in events for bar in phases(name, events[name], ended.get(name), now)]


def phases(platform: str, events: Sequence[tuple[float, str]], ended: float | None, now: float) -> list[Bar]:
    """A platform's bars from its (time, state) events: waiting from the start until its first
    state, each state until the next, a final state (passed, failed) ending the last; without a
    final state the last runs until its outcome came (ended), else until now, unfinished."""
    bars: list[Bar] = []
    start, phase = 0.0, "waiting"
    for at, state in events:
        if state != phase and at > start:
            bars.append(Bar(platform=platform, phase=phase, start=start, end=at))
        if state in FINAL_STATES:
            return bars
        if state != phase:
            start, phase = max(start, at), state
    end = ended if ended is not None else now
    if end > start or not bars:
        last = Bar(platform=platform, phase=phase, start=start, end=max(end, start), unfinished=ended is None)
        bars.append(last)
    return bars


def tick_step(span: float, most: int = 10) -> float:
    """A round step for the time axis: at most `most` ticks over `span` seconds."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 60 * 60):
        if span / step <= most:
            return float(step)
    return 7200.0


def tick_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Geometry:
    width: int = 960
    label_width: int = 150
    lane: int = 26
    bar: int = 18
    axis: int = 28


def svg(bars: Sequence[Bar], platforms: Sequence[str], span: float, geo: Geometry = Geometry()) -> str:
    """The bars as one inline SVG: a lane per platform (in the order given), phases coloured, each
    with a tooltip, and a time axis in seconds from the run's start."""
    span = max(span, max((b.end for b in bars), default=0.0), 0.1)
    plot = geo.width - geo.label_width - 10
    scale = plot / span
    height = geo.axis + geo.lane * len(platforms) + 4
    parts = [
        f'<svg class="timeline" width="{geo.width}" '
        f'height="{height}" viewBox="0 0 {geo.width} {height}" role="img" '
        f'aria-label="timeline of the run">'
    ]
    parts += _axis(span, scale, height, geo)
    for row, name in enumerate(platforms):
        top = geo.axis + row * geo.lane
        parts.append(f'<g class="lane" data-platform="{escape(name)}">')
        parts.append(
            f'<text class="lane-name" x="{geo.label_width - 8}" y="{top + geo.bar - 4}" '
            f'text-anchor="end">{escape(name)}</text>'
        )
        parts += [_bar(b, top, scale, geo) for b in bars if b.platform == name]
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _axis(span: float, scale: float, height: int, geo: Geometry) -> list[str]:
    step = tick_step(span)
    parts = []
    count = int(span / step + 1e-9)
    for i in range(count + 1):
        x = geo.label_width + i * step * scale
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{geo.axis - 6}" x2="{x:.1f}" y2="{height}" />'
            f'<text class="tick-label" x="{x:.1f}" y="{geo.axis - 10}" text-anchor="middle">'
            f"{escape(tick_text(round(i * step, 3)))}</text>"
        )
    return parts


def _bar(bar: Bar, top: int, scale: float, geo: Geometry) -> str:
    x = geo.label_width + bar.start * scale
    width = max((bar.end - bar.start) * scale, 1.0)
    colour = PHASE_COLOURS.get(bar.phase, OTHER_COLOUR)
    still = " (still going when the run ended)" if bar.unfinished else ""
    took = f"{bar.start:.2f}-{bar.end:.2f} s ({bar.end - bar.start:.2f} s)"
    title = f"{bar.platform}: {bar.label}, {took}{still}"
    css = "bar unfinished" if bar.unfinished else "bar"
    return (
        f'<rect class="{css}" data-phase="{escape(bar.phase)}" x="{x:.1f}" y="{top}" '
        f'width="{width:.1f}" height="{geo.bar}" fill="{colour}"><title>{escape(title)}</title></rect>'
    )


def legend_items(bars: Sequence[Bar]) -> list[tuple[str, str]]:
    """(label, colour) of every phase the bars show, the known ones in their order first."""
    seen = dict.fromkeys(b.phase for b in bars)
    known = [p for p in PHASE_NAMES if p in seen]
    others = [p for p in seen if p not in PHASE_NAMES]
    return [(PHASE_NAMES.get(p, p), PHASE_COLOURS.get(p, OTHER_COLOUR)) for p in known + others]
