"""What a finished run reports: JUnit counts, per-run ccache counts, the summary table."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from ci.output import outcomes, summary
from ci.output.outcomes import CacheCounts, Outcome
from ci.output.outcomes import TestTally as Tally

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="ctest.armv7" tests="5" failures="1" disabled="1" skipped="0" time="0">
  <testcase name="a" classname="armv7.a" status="run"/>
</testsuite>
"""

STATS_LOG = """# /work/src/a.c
cache_miss
# /work/src/b.c
direct_cache_hit
# /work/src/c.c
preprocessed_cache_hit
# /work/src/d.c
direct_cache_hit
"""


def test_junit_counts() -> None:
    assert outcomes.junit_counts(JUNIT) == Tally(passed=3, failed=1, skipped=1)


def test_junit_counts_over_several_suites() -> None:
    doc = f"<testsuites>{JUNIT.split('?>', 1)[1]}{JUNIT.split('?>', 1)[1]}</testsuites>"
    assert outcomes.junit_counts(doc) == Tally(passed=6, failed=2, skipped=2)


def test_ccache_counts_are_this_runs_only() -> None:
    counts = outcomes.ccache_counts(STATS_LOG)
    assert (counts.hits, counts.misses) == (3, 1)
    assert counts.rate == 0.75
    assert outcomes.ccache_counts("").rate is None


# Real lines of ccache 4.7.5 (bookworm) and 4.11.2 (trixie), which write the same names.
REMOTE_LOG = """# /work/src/a.c
direct_cache_hit
local_storage_miss
local_storage_read_miss
local_storage_write
remote_storage_hit
remote_storage_read_hit
remote_storage_read_hit
# /work/src/b.c
direct_cache_hit
local_storage_hit
local_storage_read_hit
# /work/src/c.c
cache_miss
direct_cache_miss
local_storage_miss
preprocessed_cache_miss
remote_storage_miss
remote_storage_read_miss
remote_storage_write
# /work/src/d.c
cache_miss
direct_cache_miss
local_storage_miss
preprocessed_cache_miss
remote_storage_error
remote_storage_error
remote_storage_miss
# /work/src/e.c
cache_miss
remote_storage_timeout
"""


def test_ccache_counts_split_local_and_remote_hits_and_count_failures_once() -> None:
    counts = outcomes.ccache_counts(REMOTE_LOG)
    assert (counts.hits, counts.misses) == (2, 3)
    assert (counts.local_hits, counts.remote_hits) == (1, 1)
    assert counts.remote_misses == 2
    assert counts.remote_failures == 2  # d.c (two errors, one compilation) and e.c
    assert counts.remote_used


def test_ccache_counts_without_remote_counters() -> None:
    counts = outcomes.ccache_counts(STATS_LOG)
    assert (counts.local_hits, counts.remote_hits, counts.remote_failures) == (3, 0, 0)
    assert not counts.remote_used
    assert summary.remote_text(counts) == "-"


def test_remote_column_shows_remote_hits_and_failures() -> None:
    assert summary.remote_text(CacheCounts(hits=12, misses=0, remote_hits=12)) == "12/12"
    failing = CacheCounts(hits=0, misses=6, remote_misses=6, remote_failures=6)
    assert summary.remote_text(failing) == "0/6, 6 failed"
    row = summary.table([Outcome(platform="armv7", status=0, seconds=1, cache=failing)]).splitlines()[2]
    assert row.split()[-5:] == ["0%", "(0/6)", "0/6,", "6", "failed"]


def test_table_has_a_row_per_platform_with_status_tests_and_cache() -> None:
    text = summary.table(
        [
            Outcome(platform="amd64", status=0, seconds=3.21, tests=Tally(passed=12, failed=0, skipped=0),
                    cache=CacheCounts(hits=6, misses=0), build_system="meson", way="native"),
            Outcome(platform="s390x", status=8, seconds=10.0,
                    tests=Tally(passed=11, failed=1, skipped=0)),
            Outcome(platform="riscv64", status=71, seconds=1.0, error="image build failed"),
        ]
    )  # fmt: skip
    lines = text.splitlines()
    assert lines[0].split() == [
        "platform",
        "status",
        "time",
        "way",
        "build",
        "tests",
        "passed/failed",
        "ccache",
        "hit",
        "rate",
        "remote",
        "hits",
    ]
    assert lines[2].split() == ["amd64", "ok", "3.2", "s", "native", "meson", "12/0", "100%", "(6/6)", "-"]
    assert lines[3].split()[:3] == ["s390x", "failed", "(8)"]
    assert "image build failed" in lines[4]


def test_overall_status_is_the_first_failure() -> None:
    ok = Outcome(platform="a", status=0, seconds=0)
    assert summary.overall_status([ok, ok]) == 0
    assert (
        summary.overall_status(
            [ok, Outcome(platform="b", status=3, seconds=0), Outcome(platform="c", status=4, seconds=0)]
        )
        == 3
    )


CTEST_FAILURES = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="ctest.s390x" tests="4" failures="2" disabled="0" skipped="1" time="1">
  <testcase name="vectors.crc32" classname="s390x.vectors.crc32" time="0.01" status="run"/>
  <testcase name="vectors.xxh64" classname="s390x.vectors.xxh64" time="0.02" status="fail">
    <failure message="Failed"/>
    <system-out>mismatch</system-out>
  </testcase>
  <testcase name="cli.crash" classname="s390x.cli.crash" time="0" status="fail">
    <error message="SEGFAULT"/></testcase>
  <testcase name="slow" classname="s390x.slow" time="0" status="notrun">
    <skipped message="Disabled"/></testcase>
</testsuite></testsuites>
"""


def test_junit_failed_tests_names_failures_and_errors_only() -> None:
    assert outcomes.junit_failed_tests(CTEST_FAILURES) == ["vectors.xxh64", "cli.crash"]
    assert outcomes.junit_failed_tests(JUNIT) == []


def test_failure_details_name_tests_hints_last_lines_and_the_log() -> None:
    failed = Outcome(
        platform="s390x",
        status=8,
        seconds=1.0,
        failed_tests=("vectors.xxh64",),
        tail=tuple(f"line {i}" for i in range(50)),
        log=Path("/w/build.s390x/build.log"),
    )
    lines = summary.failure_details(failed, hints=["byte order: see README"])
    assert lines[0] == "s390x: exited with status 8"
    assert lines[1] == "  failed tests: vectors.xxh64"
    assert lines[2] == "  hint: byte order: see README"
    assert lines[3] == f"  last {summary.TAIL_SHOWN} lines of its output:"
    assert lines[4:-1] == [f"    line {i}" for i in range(50 - summary.TAIL_SHOWN, 50)]
    assert lines[-1] == "  full log: /w/build.s390x/build.log"
    broken = Outcome(platform="x", status=71, seconds=0.0, error="image build failed")
    assert summary.failure_details(broken) == ["x: image build failed"]


def warned(caplog: pytest.LogCaptureFixture, outcome: Outcome, remote: str, ccache_log: Path | None) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ci"):
        summary.warn_remote_failures(outcome, remote, ccache_log)
    (record,) = caplog.records
    return record.getMessage()


def test_a_failing_remote_says_why_from_ccaches_log_with_that_causes_hint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".ciharness-ccache-stats.log").write_text(
        "# /work/src/a.c\ncache_miss\nremote_storage_error\n"
        "# /work/src/b.c\ncache_miss\nremote_storage_error\n",
        encoding="utf-8",
    )
    ccache_log = tmp_path / ".ciharness-ccache.log"
    ccache_log.write_text(
        "[t 7 ] Redis command failed: WRONGPASS invalid username-password pair or user is disabled.\n"
        "[t 7 ] Failed to construct backend for redis://********@172.17.0.1:6379\n"
        "[t 8 ] Failed to construct backend for redis://172.17.0.1:6379: Redis connection error: "
        "Connection refused\n"
        "[t 9 ] Redis command failed: WRONGPASS invalid username-password pair or user is disabled.\n",
        encoding="utf-8",
    )
    outcome = outcomes.collect("amd64", 0, 1.0, tmp_path, started_wall=time.time())
    assert outcome.cache is not None and outcome.cache.remote_failures == 2
    assert [r.cause.name for r in outcome.cache.remote_reasons] == ["authentication", "connection refused"]

    text = warned(caplog, outcome, "redis://hunter2@172.17.0.1:6379", ccache_log)
    assert "redis://***@172.17.0.1:6379 failed for 2 of 2 compilation(s)" in text
    assert "(authentication: ccache says 'Redis command failed: WRONGPASS" in text
    assert "; also connection refused)" in text
    assert "hint: the server refused the URL's password" in text and str(ccache_log) in text
    assert "down, refusing or too slow" not in text and "hunter2" not in text


def test_without_ccaches_log_the_warning_says_what_could_be_wrong(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".ciharness-ccache-stats.log").write_text("# a.c\ncache_miss\nremote_storage_timeout\n")
    outcome = outcomes.collect("armv7", 0, 1.0, tmp_path, started_wall=time.time())  # no ccache log
    assert outcome.cache is not None and outcome.cache.remote_reasons == ()
    text = warned(caplog, outcome, "", tmp_path / ".ciharness-ccache.log")
    assert "(set with -e CCACHE_REMOTE_STORAGE) failed for 1 of 1 compilation(s)" in text
    assert "(down, refusing or too slow)" in text
    assert "check that the server runs" in text and "ccache's log" not in text


def test_no_warning_when_the_remote_did_not_fail(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ci"):
        cache = CacheCounts(hits=3, misses=0, remote_hits=3)
        summary.warn_remote_failures(
            Outcome(platform="amd64", status=0, seconds=1, cache=cache), "redis://h:1"
        )
    assert caplog.records == []
