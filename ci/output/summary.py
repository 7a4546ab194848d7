"""Decide what a finished run reports: tests from its JUnit XML, ccache use from its stats log,
and the table printed after several platforms ran. Pure: text in, text out."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

# Counter names ccache writes to its stats log (CCACHE_STATSLOG): a "# FILE" line per
# compilation, then one line per counter it touched. The same names in ccache 4.7.5 (Debian
# bookworm) and 4.11.2 (trixie), checked on both; a name missing from some version only makes
# its count 0. A result taken from the remote storage counts one remote_storage_hit (and a
# cache hit); a remote that is down or refuses counts remote_storage_error, one that is slow
# remote_storage_timeout, and the compilation goes on as a miss.
CCACHE_HITS = {"direct_cache_hit", "preprocessed_cache_hit"}
CCACHE_MISSES = {"cache_miss"}
REMOTE_HIT = "remote_storage_hit"
REMOTE_MISS = "remote_storage_miss"
REMOTE_FAILURES = {"remote_storage_error", "remote_storage_timeout"}
TAIL_SHOWN = 15  # log lines shown per failed platform after a multi-platform run


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestTally:
    passed: int
    failed: int
    skipped: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class CacheCounts:
    hits: int  # local and remote
    misses: int
    remote_hits: int = 0
    remote_misses: int = 0
    remote_failures: int = 0  # errors and timeouts of the remote storage

    @property
    def local_hits(self) -> int:
        return self.hits - self.remote_hits

    @property
    def remote_used(self) -> bool:
        return bool(self.remote_hits or self.remote_misses or self.remote_failures)

    @property
    def rate(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    platform: str
    status: int
    seconds: float
    tests: TestTally | None = None
    cache: CacheCounts | None = None
    error: str = ""
    ran: bool = True  # False for a platform --fail-fast stopped before it started
    failed_tests: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()  # the run's last output lines (see ci.output.platformlog.TAIL_LINES)
    log: Path | None = None  # its build.log


def junit_counts(xml_text: str) -> TestTally:
    root = ET.fromstring(xml_text)  # noqa: S314 (our own ctest output)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", "0")) for s in suites)
    failed = sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites)
    skipped = sum(int(s.get("skipped", "0")) + int(s.get("disabled", "0")) for s in suites)
    return TestTally(passed=tests - failed - skipped, failed=failed, skipped=skipped)


def junit_failed_tests(xml_text: str) -> list[str]:
    """Names of the test cases that failed or errored, in the XML's order."""
    root = ET.fromstring(xml_text)  # noqa: S314 (our own ctest output)
    return [
        case.get("name", "?")
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]


def ccache_counts(stats_log: str) -> CacheCounts:
    """Counts per compilation (a "# FILE" line starts each), so a compilation that touched two
    remote storages still counts once."""
    blocks: list[set[str]] = [set()]
    for line in stats_log.splitlines():
        if line.startswith("#"):
            blocks.append(set())
        elif line.strip():
            blocks[-1].add(line.strip())
    hit_blocks = [b for b in blocks if b & CCACHE_HITS]
    return CacheCounts(
        hits=len(hit_blocks),
        misses=sum(1 for b in blocks if b & CCACHE_MISSES),
        remote_hits=sum(1 for b in hit_blocks if REMOTE_HIT in b),
        remote_misses=sum(1 for b in blocks if REMOTE_MISS in b),
        remote_failures=sum(1 for b in blocks if b & REMOTE_FAILURES),
    )


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
    rows = [("platform", "status", "time", "tests passed/failed", "ccache hit rate", "remote hits")]
    for o in outcomes:
        status = "ok" if o.status == 0 else (o.error or f"failed ({o.status})")
        tests = f"{o.tests.passed}/{o.tests.failed}" if o.tests else "-"
        rows.append(
            (o.platform, status, f"{o.seconds:.1f} s", tests, cache_text(o.cache), remote_text(o.cache))
        )
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
