"""Decide what a finished run reports: tests from its JUnit XML, ccache use from its stats log,
and the table printed after several platforms ran. Pure: text in, text out."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

# Counter names ccache writes to its stats log (CCACHE_STATSLOG), one per compilation.
CCACHE_HITS = {"direct_cache_hit", "preprocessed_cache_hit"}
CCACHE_MISSES = {"cache_miss"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestTally:
    passed: int
    failed: int
    skipped: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class CacheCounts:
    hits: int
    misses: int

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


def junit_counts(xml_text: str) -> TestTally:
    root = ET.fromstring(xml_text)  # noqa: S314 (our own ctest output)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", "0")) for s in suites)
    failed = sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites)
    skipped = sum(int(s.get("skipped", "0")) + int(s.get("disabled", "0")) for s in suites)
    return TestTally(passed=tests - failed - skipped, failed=failed, skipped=skipped)


def ccache_counts(stats_log: str) -> CacheCounts:
    words = [line.strip() for line in stats_log.splitlines() if line.strip() and not line.startswith("#")]
    return CacheCounts(
        hits=sum(1 for w in words if w in CCACHE_HITS),
        misses=sum(1 for w in words if w in CCACHE_MISSES),
    )


def cache_text(cache: CacheCounts | None) -> str:
    if cache is None or cache.rate is None:
        return "-"
    return f"{cache.rate:.0%} ({cache.hits}/{cache.hits + cache.misses})"


def table(outcomes: list[Outcome]) -> str:
    rows = [("platform", "status", "time", "tests passed/failed", "ccache hit rate")]
    for o in outcomes:
        status = "ok" if o.status == 0 else (o.error or f"failed ({o.status})")
        tests = f"{o.tests.passed}/{o.tests.failed}" if o.tests else "-"
        rows.append((o.platform, status, f"{o.seconds:.1f} s", tests, cache_text(o.cache)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def overall_status(outcomes: list[Outcome]) -> int:
    """0 when every platform passed, else the first failure's status."""
    return next((o.status for o in outcomes if o.status != 0), 0)
