"""Report what finished runs tell: one platform's line, the table after several, and each failed
platform's details (its failed tests, known causes, last lines, log)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ci import buildsystems
from ci.output import ccachelog, hints
from ci.output.outcomes import NO_COVERAGE, NO_TESTS, CacheCounts, Outcome
from ci.planning import ccache_remote

log = logging.getLogger(__name__)

NO_TESTS_HINT = (
    "a green run must have tested something: check that the project's tests are built and found "
    f"({', '.join(s.test_command for s in buildsystems.ALL)}); a project that has none says so "
    "with --no-tests"
)
NO_COVERAGE_HINT = (
    "its log's '==> coverage:' line says why: nothing built with --coverage (a build dir configured "
    "without it: remove it, or use another --build-dir), a gcovr older than 7 in the image, or gcovr's "
    "own error"
)
# A failing remote storage whose reason ccache's log does not tell (no log: CCACHE_LOGFILE set
# elsewhere by the user, or an older ccache's words).
REMOTE_UNKNOWN = "down, refusing or too slow"
REMOTE_UNKNOWN_HINT = "check that the server runs and that this engine's containers reach it"
TAIL_SHOWN = 15  # log lines shown per failed platform after a multi-platform run


def cache_text(cache: CacheCounts | None) -> str:
    if cache is None or cache.rate is None:
        return "-"
    return f"{cache.rate:.0%} ({cache.hits}/{cache.hits + cache.misses})"


def remote_text(cache: CacheCounts | None) -> str:
    """Remote hits of all compilations, and failures when there were any."""
    if cache is None or not cache.remote_used:
        return "-"
    text = f"{cache.remote_hits}/{cache.hits + cache.misses}"
    return text + (f", {cache.remote_failures} failed" if cache.remote_failures else "")


def table(outcomes: list[Outcome]) -> str:
    rows: list[tuple[str, ...]] = [
        (
            "platform",
            "status",
            "time",
            "way",
            "build",
            "tests passed/failed",
            "ccache hit rate",
            "remote hits",
        )
    ]
    covered = any(o.coverage for o in outcomes)  # a coverage column only in a run that measured it
    rows[0] += ("coverage",) if covered else ()
    for o in outcomes:
        status = "ok" if o.status == 0 else (o.error or f"failed ({o.status})")
        tests = f"{o.tests.passed}/{o.tests.failed}" if o.tests else "-"
        tests += f" ({o.tests.flaky} flaky)" if o.tests and o.tests.flaky else ""
        cells = (o.way or "-", o.build_system or "-", tests, cache_text(o.cache), remote_text(o.cache))
        measured = (o.coverage.short() if o.coverage else "-",) if covered else ()
        rows.append((o.platform, status, f"{o.seconds:.1f} s", *cells, *measured))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def failure_details(outcome: Outcome, hints: Sequence[str] = ()) -> list[str]:
    """What a failed platform left to read: its failed tests, hint lines (known failure causes,
    given by the caller), the last lines of its log and the log's path."""
    status = outcome.error or f"exited with status {outcome.status}"
    lines = [f"{outcome.platform}: {status}"]
    if outcome.failed_tests:
        lines.append(f"  failed tests: {', '.join(outcome.failed_tests)}")
    lines += [f"  {finding}" for finding in sanitizer_findings(outcome)]
    lines += [f"  hint: {hint}" for hint in hints]
    if outcome.tail:
        shown = outcome.tail[-TAIL_SHOWN:]
        lines.append(f"  last {len(shown)} lines of its output:")
        lines += [f"    {line}" for line in shown]
    if outcome.log is not None:
        lines.append(f"  full log: {outcome.log}")
    return lines


def overall_status(outcomes: list[Outcome]) -> int:
    """0 when every platform passed, else the first failure's status."""
    return next((o.status for o in outcomes if o.status != 0), 0)


def known_causes(outcome: Outcome) -> Sequence[str]:
    """Hint lines for a failed run, from its status and last lines (ci.output.hints keeps the table)."""
    if outcome.error == NO_TESTS:
        return [NO_TESTS_HINT]
    if outcome.error == NO_COVERAGE:
        return [NO_COVERAGE_HINT]
    return hints.hints_for(outcome.status, outcome.tail)


def report(outcome: Outcome) -> None:
    parts = [f"{outcome.platform}: " + status_text(outcome)]
    if outcome.way:
        parts.append(outcome.way)
    if outcome.build_system:
        parts.append(f"build system {outcome.build_system}")
    if outcome.tests:
        skipped = f", {outcome.tests.skipped} skipped" if outcome.tests.skipped else ""
        flaky = f" ({outcome.tests.flaky} flaky)" if outcome.tests.flaky else ""
        parts.append(f"tests {outcome.tests.passed} passed{flaky}, {outcome.tests.failed} failed{skipped}")
    if outcome.failed_tests:
        parts.append(f"failed tests: {', '.join(outcome.failed_tests)}")
    if outcome.coverage:
        parts.append(f"coverage {outcome.coverage.describe()}: {outcome.coverage.html}")
    if outcome.cache and outcome.cache.rate is not None:
        c = outcome.cache
        local_remote = f"; {c.local_hits} local, {c.remote_hits} remote" if c.remote_used else ""
        parts.append(f"ccache {c.hits} hits, {c.misses} misses ({c.rate:.0%}{local_remote})")
    if outcome.status != 0 and outcome.log is not None:
        parts.append(f"full log: {outcome.log}")
    if outcome.tests or outcome.cache or outcome.status != 0:
        (log.info if outcome.status == 0 else log.error)("%s", "; ".join(parts))
    for finding in sanitizer_findings(outcome):
        log.error("%s: %s", outcome.platform, finding)
    for line in test_notes(outcome):
        log.warning("%s: %s", outcome.platform, line)
    if outcome.status != 0:
        for hint in known_causes(outcome):
            log.info("hint: %s", hint)


def test_notes(outcome: Outcome) -> list[str]:
    """What a run's tests say beyond pass and fail: the flaky ones (failed, then passed when run
    again), the quarantined ones that failed, those that passed (ready to leave quarantine), and
    quarantine entries that matched no test."""
    held = outcome.quarantine
    notes = (
        [f"flaky (failed, then passed when run again): {', '.join(outcome.flaky_tests)}"]
        if outcome.flaky_tests
        else []
    )
    if outcome.raced_tests:
        notes.append(
            f"failed running with others, passed alone (they may race): {', '.join(outcome.raced_tests)}"
        )
    if held.failed:
        notes.append(f"quarantined, failed (not failing the run): {', '.join(held.failed)}")
    if held.passed:
        notes.append(f"quarantined, passed (ready to leave quarantine): {', '.join(held.passed)}")
    notes += [f"quarantine entry {name!r} matches no test" for name in held.unmatched]
    return notes


def sanitizer_findings(outcome: Outcome) -> list[str]:
    """`test: what the sanitizer found, where` for each failed test a sanitizer ended."""
    return [
        f"{failed.name}: {failed.message.splitlines()[0]}"
        for failed in outcome.failures
        if failed.message and "Sanitizer: " in failed.message.splitlines()[0]
    ]


def status_text(outcome: Outcome) -> str:
    if outcome.status == 0:
        return "ok"
    if outcome.error == NO_TESTS:
        return (
            f"built, but ran no test (none defined, or every one skipped): not a pass (exit {outcome.status})"
        )
    if outcome.error == NO_COVERAGE:
        return f"tested, but made no coverage report: not a pass (exit {outcome.status})"
    return f"exited with status {outcome.status}"


def report_failures(done: Sequence[Outcome]) -> None:
    """After several platforms: what each one's tests say beyond pass and fail (test_notes), then
    for each failed one, its failed tests, hints, last lines, log."""
    for outcome in done:
        for line in test_notes(outcome):
            log.warning("%s: %s", outcome.platform, line)
    for outcome in done:
        if outcome.status != 0 and outcome.ran:  # one never started has nothing to tell
            lines = failure_details(outcome, hints=known_causes(outcome))
            sys.stderr.write("\n" + "\n".join(lines) + "\n")


def warn_remote_failures(outcome: Outcome, remote: str, ccache_log: Path | None = None) -> None:
    """One warning per run when the remote storage failed: ccache counted those compilations as
    misses and went on, and so does the build. Why, and the hint for that cause, as ccache's log
    tells it (ci.output.ccachelog); without that log, what could be wrong."""
    cache = outcome.cache
    if not cache or not cache.remote_failures:
        return
    why, hint = remote_failure_cause(cache.remote_reasons)
    where = f"; ccache's log: {ccache_log}" if ccache_log is not None and cache.remote_reasons else ""
    log.warning(
        "%s: the ccache remote storage %s failed for %d of %d compilation(s) (%s); they were "
        "compiled here (hint: %s%s)",
        outcome.platform,
        ccache_remote.mask(remote) or "(set with -e CCACHE_REMOTE_STORAGE)",
        cache.remote_failures,
        cache.hits + cache.misses,
        why,
        hint,
        where,
    )


def remote_failure_cause(reasons: Sequence[ccachelog.Reason]) -> tuple[str, str]:
    """(why, hint) for a failing remote storage: the most frequent cause in ccache's words, and
    the other causes by name."""
    if not reasons:
        return REMOTE_UNKNOWN, REMOTE_UNKNOWN_HINT
    first = reasons[0]
    why = f"{first.cause.name}: ccache says {first.message!r}"
    others = dict.fromkeys(r.cause.name for r in reasons[1:])
    return why + (f"; also {', '.join(others)}" if others else ""), first.cause.hint
