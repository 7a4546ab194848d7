"""Do: read what a finished run left behind (its JUnit XML, its ccache stats log) into an
Outcome, and log the line that reports one platform's run."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from ci import plan, summary
from ci.summary import Outcome

log = logging.getLogger(__name__)


def collect(platform: str, status: int, seconds: float, build_dir: Path, started_wall: float) -> Outcome:
    """The run's JUnit XML (if this run wrote it) and its ccache stats log."""
    tests = None
    junit = build_dir / "junit" / f"ctest-{platform}.xml"
    if junit.is_file() and junit.stat().st_mtime >= started_wall - 1:
        with contextlib.suppress(ValueError, SyntaxError):
            tests = summary.junit_counts(junit.read_text(encoding="utf-8"))
    cache = None
    stats_log = build_dir / plan.CCACHE_STATS_LOG
    if stats_log.is_file():
        cache = summary.ccache_counts(stats_log.read_text(encoding="utf-8", errors="replace"))
    return Outcome(platform=platform, status=status, seconds=seconds, tests=tests, cache=cache)


def report(outcome: Outcome) -> None:
    parts = [
        f"{outcome.platform}: " + ("ok" if outcome.status == 0 else f"exited with status {outcome.status}")
    ]
    if outcome.tests:
        parts.append(f"tests {outcome.tests.passed} passed, {outcome.tests.failed} failed")
    if outcome.cache and outcome.cache.rate is not None:
        c = outcome.cache
        parts.append(f"ccache {c.hits} hits, {c.misses} misses ({c.rate:.0%})")
    if outcome.tests or outcome.cache or outcome.status != 0:
        (log.info if outcome.status == 0 else log.error)("%s", "; ".join(parts))
