"""Do: read what a finished run left behind (its JUnit XML, its ccache stats log) into an
Outcome, and log the line that reports one platform's run."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from ci import ccache_remote, plan, summary
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
        local_remote = f"; {c.local_hits} local, {c.remote_hits} remote" if c.remote_used else ""
        parts.append(f"ccache {c.hits} hits, {c.misses} misses ({c.rate:.0%}{local_remote})")
    if outcome.tests or outcome.cache or outcome.status != 0:
        (log.info if outcome.status == 0 else log.error)("%s", "; ".join(parts))


def warn_remote_failures(outcome: Outcome, remote: str) -> None:
    """One warning per run when the remote storage failed: ccache counted those compilations as
    misses and went on, and so does the build."""
    if outcome.cache and outcome.cache.remote_failures:
        log.warning(
            "%s: the ccache remote storage %s failed for %d of %d compilation(s) (down, refusing or "
            "too slow); they were compiled here (hint: check that the server runs and that this "
            "engine's containers reach it)",
            outcome.platform,
            ccache_remote.mask(remote) or "(set with -e CCACHE_REMOTE_STORAGE)",
            outcome.cache.remote_failures,
            outcome.cache.hits + outcome.cache.misses,
        )
