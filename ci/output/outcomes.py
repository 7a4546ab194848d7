"""Do: read what a finished run left behind (its JUnit XML, its ccache stats log, its last
output lines) into an Outcome, and log what reports one platform's run or several's failures."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ci.output import hints, summary
from ci.output.platformlog import PlatformLog
from ci.output.summary import Outcome
from ci.planning import ccache_remote, runspec

log = logging.getLogger(__name__)


def collect(
    platform: str,
    status: int,
    seconds: float,
    build_dir: Path,
    *,
    started_wall: float,
    tail: tuple[str, ...] = (),
    log_path: Path | None = None,
) -> Outcome:
    """The run's JUnit XML (if this run wrote it), its ccache stats log, and its output's end."""
    tests = None
    failed_tests: tuple[str, ...] = ()
    junit = build_dir / "junit" / f"ctest-{platform}.xml"
    if junit.is_file() and junit.stat().st_mtime >= started_wall - 1:
        with contextlib.suppress(ValueError, SyntaxError):
            xml_text = junit.read_text(encoding="utf-8")
            tests = summary.junit_counts(xml_text)
            failed_tests = tuple(summary.junit_failed_tests(xml_text))
    cache = None
    stats_log = build_dir / runspec.CCACHE_STATS_LOG
    if stats_log.is_file():
        cache = summary.ccache_counts(stats_log.read_text(encoding="utf-8", errors="replace"))
    return Outcome(
        platform=platform,
        status=status,
        seconds=seconds,
        tests=tests,
        cache=cache,
        failed_tests=failed_tests,
        tail=tail,
        log=log_path,
    )


def with_log(outcome: Outcome, plog: PlatformLog | None) -> Outcome:
    """An outcome made from an error (no collect) still gets its run's last lines and log."""
    if plog is None or outcome.log is not None:
        return outcome
    return dataclasses.replace(outcome, tail=tuple(plog.tail), log=plog.path)


def known_causes(outcome: Outcome) -> Sequence[str]:
    """Hint lines for a failed run, from its status and last lines (ci.output.hints keeps the table)."""
    return hints.hints_for(outcome.status, outcome.tail)


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
    if outcome.status != 0 and outcome.log is not None:
        parts.append(f"full log: {outcome.log}")
    if outcome.tests or outcome.cache or outcome.status != 0:
        (log.info if outcome.status == 0 else log.error)("%s", "; ".join(parts))
    if outcome.status != 0:
        for hint in known_causes(outcome):
            log.info("hint: %s", hint)


def report_failures(done: Sequence[Outcome]) -> None:
    """After several platforms: for each failed one, its failed tests, hints, last lines, log."""
    for outcome in done:
        if outcome.status != 0 and outcome.ran:  # one never started has nothing to tell
            lines = summary.failure_details(outcome, hints=known_causes(outcome))
            sys.stderr.write("\n" + "\n".join(lines) + "\n")


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
