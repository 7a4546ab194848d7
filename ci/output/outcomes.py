"""Decide what a finished run tells: the Outcome type, read from what the run left behind (its
JUnit XML, its ccache stats log, its last output lines)."""

from __future__ import annotations

import contextlib
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

from ci import buildsystems
from ci.buildsystems import Choice, junit
from ci.errors import ExitCode
from ci.output import attempts, ccachelog, findings
from ci.output.coverage import Coverage
from ci.output.coverage import read as read_coverage
from ci.output.platformlog import PlatformLog
from ci.planning import runspec

NO_TESTS = "no tests"  # Outcome.error of a default step that passed but ran no test
NO_COVERAGE = "no coverage report"  # Outcome.error of a --coverage run that made none
FAILURE_OUTPUT_LINES = 20  # of a failed test's own output, kept for the report
SLOWEST_SHOWN = 5  # of a job's slowest tests, in the report

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


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestTally:
    passed: int  # flaky ones too: they passed on a rerun
    failed: int
    skipped: int  # quarantined failures too
    flaky: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class FailedTest:
    """A test case that failed or errored: its name, its failure's message and its output's end."""

    name: str
    message: str = ""
    output: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class CacheCounts:
    hits: int  # local and remote
    misses: int
    remote_hits: int = 0
    remote_misses: int = 0
    remote_failures: int = 0  # errors and timeouts of the remote storage
    remote_reasons: tuple[ccachelog.Reason, ...] = ()  # why, from ccache's log (runspec.CCACHE_LOG)

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
    failures: tuple[FailedTest, ...] = ()  # the failed tests with their messages (the report shows them)
    tail: tuple[str, ...] = ()  # the run's last output lines (see ci.output.platformlog.TAIL_LINES)
    log: Path | None = None  # its build.log
    build_system: str = ""  # of the default step ('' for any other command)
    way: str = ""  # how it ran on its engine: native, cross, cross + qemu-user, emulated (ci.planning.ways)
    flaky_tests: tuple[str, ...] = ()  # failed, then passed when run again (--retries)
    raced_tests: tuple[str, ...] = ()  # failed running with others (under QEMU), passed alone
    slowest: tuple[tuple[str, float], ...] = ()  # its slowest tests and their seconds, slowest first
    quarantine: attempts.Quarantine = dataclasses.field(default_factory=attempts.Quarantine)
    coverage: Coverage | None = None  # --coverage: gcovr's figures and reports
    image: str = ""  # the image it ran in


def junit_counts(xml_text: str) -> TestTally:
    root = ET.fromstring(xml_text)  # noqa: S314 (our own ctest output)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", "0")) for s in suites)
    failed = sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites)
    skipped = sum(int(s.get("skipped", "0")) + int(s.get("disabled", "0")) for s in suites)
    flaky = len(flaky_names(root))
    return TestTally(passed=tests - failed - skipped, failed=failed, skipped=skipped, flaky=flaky)


def junit_flaky_tests(xml_text: str, *, raced: bool | None = None) -> list[str]:
    """Names of the test cases that passed on a rerun (a <flakyFailure> for each failed attempt);
    raced: only those that failed running with others and passed alone (True), or only the others."""
    return flaky_names(ET.fromstring(xml_text), raced)  # noqa: S314 (our own output)


def flaky_names(root: ET.Element, raced: bool | None = None) -> list[str]:
    found = []
    for case in root.iter("testcase"):
        first = case.find("flakyFailure")
        if first is not None and (
            raced is None or first.get("message", "").startswith(junit.IN_PARALLEL) == raced
        ):
            found.append(case.get("name", "?"))
    return found


def junit_times(xml_text: str) -> list[tuple[str, float]]:
    """Each test case's name and seconds."""
    root = ET.fromstring(xml_text)  # noqa: S314 (our own output)
    return [(case.get("name", "?"), float(case.get("time") or 0)) for case in root.iter("testcase")]


def junit_failed_tests(xml_text: str) -> list[str]:
    """Names of the test cases that failed or errored, in the XML's order."""
    return [failed.name for failed in junit_failures(xml_text)]


def junit_failures(xml_text: str) -> list[FailedTest]:
    """The test cases that failed or errored, in the XML's order, each with its failure's message
    (the element's message attribute and text) and the last lines of its output."""
    root = ET.fromstring(xml_text)  # noqa: S314 (our own ctest output)
    found: list[FailedTest] = []
    for case in root.iter("testcase"):
        bad = case.find("failure")
        bad = case.find("error") if bad is None else bad
        if bad is None:
            continue
        said = [bad.get("message", "").strip(), (bad.text or "").strip()]
        message = "\n".join(dict.fromkeys(part for part in said if part))
        out = case.find("system-out")
        output = (out.text or "").strip() if out is not None else ""
        kept = "\n".join(output.splitlines()[-FAILURE_OUTPUT_LINES:])
        sanitizer = findings.finding(output)  # first: a sanitizer's report is often longer than kept
        if sanitizer and not message.startswith(sanitizer):
            message = f"{sanitizer}\n{message}".strip()
        found.append(FailedTest(name=case.get("name", "?"), message=message, output=kept))
    return found


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


def collect(
    platform: str,
    status: int,
    seconds: float,
    build_dir: Path,
    *,
    started_wall: float,
    tail: tuple[str, ...] = (),
    log_path: Path | None = None,
    build: Choice | None = None,
    expect_tests: bool = True,
    way: str = "",
    quarantine: tuple[str, ...] = (),
    image: str = "",
    expect_coverage: bool = False,
) -> Outcome:
    """The run's test results (its build system's, as JUnit XML in junit/, written by this run,
    its attempts merged where failed tests ran again), its ccache stats log and its output's end.
    A default step that passed but ran no test (none defined, or every one skipped) has not
    passed, unless the project says it has none; one whose failed tests are all quarantined has;
    one asked for coverage whose tests ran and made no report has not (expect_coverage)."""
    fresh = started_wall - 1
    if build is not None:
        write_junit(build_dir, platform, build.system, fresh)
    attempts.merge(build_dir, platform, build.system if build is not None else "", fresh)
    held = attempts.quarantine(build_dir, platform, quarantine, fresh) if build else attempts.Quarantine()
    findings.annotate_junit(build_dir, fresh)
    texts = fresh_junit(build_dir, fresh)
    tests, failures = read_junit(texts)
    phase = attempts.test_phase_status(build_dir, fresh)  # None: the tests never ran
    from_tests = status != 0 and phase == status
    if from_tests and held.failed and tests is not None and tests.failed == 0:
        status = 0  # the run failed in its test phase, and only quarantined tests failed
    ran_none = tests is None or tests.passed + tests.failed == 0
    no_tests = build is not None and status == 0 and expect_tests and ran_none
    measured = read_coverage(build_dir, fresh)
    no_coverage = expect_coverage and phase is not None and measured is None and status == 0 and not no_tests
    error, status = (NO_TESTS, int(ExitCode.NO_TESTS)) if no_tests else ("", status)
    error, status = (NO_COVERAGE, int(ExitCode.COVERAGE_MISSING)) if no_coverage else (error, status)
    return Outcome(
        platform=platform,
        status=status,
        seconds=seconds,
        tests=tests,
        cache=read_cache_counts(build_dir),
        error=error,
        failed_tests=tuple(f.name for f in failures),
        failures=failures,
        tail=tail,
        log=log_path,
        build_system=build.system if build is not None else "",
        way=way,
        flaky_tests=tuple(name for text in texts for name in junit_flaky_tests(text, raced=False)),
        raced_tests=tuple(name for text in texts for name in junit_flaky_tests(text, raced=True)),
        quarantine=held,
        slowest=slowest_tests(texts),
        coverage=measured,
        image=image,
    )


def read_cache_counts(build_dir: Path) -> CacheCounts | None:
    """This run's ccache counts, from its stats log (with the remote's failures explained)."""
    stats_log = build_dir / runspec.CCACHE_STATS_LOG
    if not stats_log.is_file():
        return None
    cache = ccache_counts(stats_log.read_text(encoding="utf-8", errors="replace"))
    if cache.remote_failures:
        cache = dataclasses.replace(cache, remote_reasons=remote_reasons(build_dir))
    return cache


def slowest_tests(texts: list[str], count: int = SLOWEST_SHOWN) -> tuple[tuple[str, float], ...]:
    """The run's slowest tests by their JUnit times (that took any time), slowest first."""
    timed = [entry for text in texts for entry in junit_times(text) if entry[1] > 0]
    return tuple(sorted(timed, key=lambda t: -t[1])[:count])


def remote_reasons(build_dir: Path) -> tuple[ccachelog.Reason, ...]:
    """Why the remote storage failed, from ccache's log of this run (read line by line: it has
    some 40 lines per compilation)."""
    ccache_log = build_dir / runspec.CCACHE_LOG
    with contextlib.suppress(OSError), ccache_log.open(encoding="utf-8", errors="replace") as lines:
        return ccachelog.reasons(lines)
    return ()


def fresh_junit(build_dir: Path, fresh: float) -> list[str]:
    """The text of every junit/*.xml this run wrote (older files are an earlier run's) that
    parses, read once for all that is told of them."""
    texts = []
    for xml_file in sorted((build_dir / "junit").glob("*.xml")):
        if junit.is_fresh(xml_file, fresh):
            with contextlib.suppress(ValueError, SyntaxError, OSError):
                text = xml_file.read_text(encoding="utf-8")
                ET.fromstring(text)  # noqa: S314 (our own output)
                texts.append(text)
    return texts


def read_junit(texts: list[str]) -> tuple[TestTally | None, tuple[FailedTest, ...]]:
    """Counts and failed tests over this run's JUnit texts."""
    tallies = [junit_counts(text) for text in texts]
    failed = [found for text in texts for found in junit_failures(text)]
    if not tallies:
        return None, ()
    total = TestTally(
        passed=sum(t.passed for t in tallies),
        failed=sum(t.failed for t in tallies),
        skipped=sum(t.skipped for t in tallies),
        flaky=sum(t.flaky for t in tallies),
    )
    return total, tuple(failed)


def write_junit(build_dir: Path, platform: str, system: str, fresh: float) -> None:
    """JUnit XML for a build system whose test runners do not write ours (ctest does), from what
    this run's tests left: `junit/<tool>-<platform>.xml` for each of its runners that ran."""
    for results in buildsystems.by_name(system).results:
        cases = results.read(build_dir, fresh)
        if cases is not None:
            (build_dir / "junit").mkdir(exist_ok=True)
            (build_dir / "junit" / f"{results.tool}-{platform}.xml").write_text(
                junit.to_junit(results.tool, platform, cases), encoding="utf-8"
            )


def with_log(outcome: Outcome, plog: PlatformLog | None) -> Outcome:
    """An outcome made from an error (no collect) still gets its run's last lines and log."""
    if plog is None or outcome.log is not None:
        return outcome
    return dataclasses.replace(outcome, tail=tuple(plog.tail), log=plog.path)
