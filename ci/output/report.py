"""A build-and-test run's report: what it holds (pure: gathered from the planned platforms, the
Recorder's states and outcomes, and each platform's log), and writing it (do): the HTML file
(ci.output.reporthtml) and, under GitHub Actions, the job summary (ci.output.markdown). Written
whatever ends the run, from what is known then; an error writing it is one warning, never the
run's failure."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import signal
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ci.errors import HarnessError
from ci.output import coverage, markdown, reporthtml, summary
from ci.output.outcomes import NO_TESTS, FailedTest, Outcome, TestTally
from ci.output.platformlog import PlatformLog
from ci.output.timeline import PHASE_NAMES, Bar, Recorder

if TYPE_CHECKING:
    from ci.planning.invocation import Invocation

log = logging.getLogger(__name__)

NONE = "none"  # --report none: no HTML report
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # GitHub Actions' job summary file, appended to
TAIL_SHOWN = 40  # last output lines per platform in the report
CONTROLS = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")  # colours, controls


@dataclasses.dataclass(frozen=True, kw_only=True)
class Entry:
    """One platform as the report shows it."""

    platform: str
    status: str  # ok, failed (exit 8), no tests, not run (--fail-fast), interrupted during tests, ...
    passed: bool
    seconds: float
    way: str = ""  # native, cross, cross + qemu-user, emulated
    build_system: str = ""
    tests: TestTally | None = None
    failures: tuple[FailedTest, ...] = ()
    cache: str = "-"
    image: str = ""
    hints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # flaky and quarantined tests (ci.output.summary.test_notes)
    slowest: tuple[tuple[str, float], ...] = ()  # its slowest tests, seconds
    coverage: str = ""  # --coverage: lines 93.6% (367/392), branches ...
    coverage_short: str = ""  # 93.6% lines, 79.5% branches
    coverage_href: str = ""  # its HTML page, from the report's own place
    tail: tuple[str, ...] = ()
    log: str = ""  # the build.log's path as shown
    log_href: str = ""  # and as a link from the report's own place


@dataclasses.dataclass(frozen=True, kw_only=True)
class Report:
    title: str
    started_wall: float
    seconds: float
    status: int
    ended_by: str  # '' when the run ran to its end; else what ended it
    entries: tuple[Entry, ...]  # failures first, then in the order the platforms were given
    bars: tuple[Bar, ...]
    lanes: tuple[str, ...]  # the platforms in the order given
    cores: int
    parallel: int
    merged_coverage: str = ""  # a several-job --coverage run's merged figures (ci.running.coveragemerge)
    merged_coverage_href: str = ""

    @property
    def headline(self) -> str:
        passed = sum(e.passed for e in self.entries)
        text = f"{passed} of {len(self.entries)} platform(s) passed"
        return text + (f"; {self.ended_by}" if self.ended_by else "")


def report_path(setting: str, cwd: Path) -> Path | None:
    """Where --report puts the HTML (relative to the directory build.py runs in); none: nowhere."""
    if setting.strip().lower() == NONE or not setting.strip():
        return None
    path = Path(setting).expanduser()
    return path if path.is_absolute() else cwd / path


def status_of(outcome: Outcome) -> str:
    if outcome.status == 0:
        return "ok"
    if outcome.error == NO_TESTS:
        return f"no tests (exit {outcome.status})"
    if outcome.error:
        return f"{outcome.error} (exit {outcome.status})" if outcome.ran else outcome.error
    return f"failed (exit {outcome.status})"


def unfinished(
    name: str, state: str, seconds: float, plog: PlatformLog | None, error: BaseException | None = None
) -> Outcome:
    """What is known of a platform the run ended before it did: where it got to, or the error
    that failed it (one platform's errors end the run; several platforms' become outcomes)."""
    phase = PHASE_NAMES.get(state, state)
    if state == "failed" and isinstance(error, HarnessError):
        text, status, ran = error.message, int(error.code), True
    elif state == "failed":
        text, status, ran = "failed", 1, False
    else:
        text, status, ran = (
            "not started" if state == "waiting" else f"did not finish (ended during {phase})",
            1,
            False,
        )
    return Outcome(
        platform=name,
        status=status,
        seconds=seconds,
        error=text,
        ran=ran,  # False: no exit status of its own to tell
        tail=tuple(plog.tail) if plog is not None else (),
        log=plog.path if plog is not None else None,
    )


def linked(path: Path, report_dir: Path | None) -> str:
    """path as a link from the report's own place."""
    return os.path.relpath(path, report_dir) if report_dir is not None else str(path)


def entry(outcome: Outcome, image: str, report_dir: Path | None) -> Entry:
    href = linked(outcome.log, report_dir) if outcome.log is not None else ""
    measured = outcome.coverage
    failed = outcome.status != 0 and outcome.ran
    return Entry(
        platform=outcome.platform,
        status=status_of(outcome),
        passed=outcome.status == 0,
        seconds=outcome.seconds,
        way=outcome.way,
        build_system=outcome.build_system,
        tests=outcome.tests,
        failures=outcome.failures or tuple(FailedTest(name=n) for n in outcome.failed_tests),
        cache=summary.cache_text(outcome.cache),
        image=image,
        hints=tuple(summary.known_causes(outcome)) if failed else (),
        notes=tuple(summary.test_notes(outcome)),
        slowest=outcome.slowest,
        coverage=measured.describe() if measured else "",
        coverage_short=measured.short() if measured else "",
        coverage_href=linked(measured.html, report_dir) if measured else "",
        tail=tuple(CONTROLS.sub("", line) for line in outcome.tail[-TAIL_SHOWN:]),
        log=str(outcome.log) if outcome.log is not None else "",
        log_href=href,
    )


def ended_by(error: BaseException | None, outcomes: Sequence[Outcome]) -> tuple[str, int | None]:
    """What ended the run early, and the status it ends with (None: the outcomes' own)."""
    signum = signal.SIGINT if isinstance(error, KeyboardInterrupt) else getattr(error, "signum", None)
    if isinstance(signum, int):
        return f"interrupted by {signal.Signals(signum).name}", 128 + signum
    if isinstance(error, HarnessError):
        return f"stopped: {error.message}", int(error.code)
    if error is not None and not isinstance(error, SystemExit | GeneratorExit):
        return f"stopped by an internal error: {type(error).__name__}: {error}", 99
    if any(not o.ran and "fail-fast" in o.error for o in outcomes):
        return "stopped by --fail-fast", None
    return "", None


def gather(
    inv: Invocation,
    recorder: Recorder,
    logs: Mapping[str, PlatformLog],
    error: BaseException | None = None,
    report_dir: Path | None = None,
) -> Report:
    """The report of the run so far: every platform planned, with its outcome where it has one,
    else what its log and its last state tell."""
    now = recorder.now()
    done: list[Outcome] = []
    for name in recorder.platforms:
        outcome = recorder.outcomes.get(name)
        if outcome is None:
            started = recorder.first_state_at(name)
            seconds = now - started if started is not None else 0.0
            outcome = unfinished(name, recorder.last_state(name), seconds, logs.get(name), error)
        done.append(outcome)
    images = {r.job: str(r.image) for r in inv.platforms}
    entries = [entry(o, images.get(o.platform, ""), report_dir) for o in done]
    why, status = ended_by(error, done)
    merged = coverage.read_dir(
        coverage.merged_dir(inv.settings.build_dir, inv.host.cwd), recorder.started_wall
    )
    return Report(
        title="ciharness: " + ", ".join(recorder.platforms),
        started_wall=recorder.started_wall,
        seconds=now,
        status=summary.overall_status(done) if status is None else status,
        ended_by=why,
        entries=tuple(sorted(entries, key=lambda e: e.passed)),
        bars=tuple(recorder.bars()),
        lanes=tuple(recorder.platforms),
        cores=inv.host.cpus,
        parallel=inv.parallel if inv.several else 1,
        merged_coverage=merged.describe() if merged else "",
        merged_coverage_href=linked(merged.html, report_dir) if merged else "",
    )


def write(
    inv: Invocation,
    recorder: Recorder,
    logs: Mapping[str, PlatformLog],
    env: Mapping[str, str],
    error: BaseException | None = None,
) -> Path | None:
    """The HTML report where --report says, and the job summary when GitHub Actions asks for
    one. Never raises (but a signal): each write that fails is one warning."""
    path = report_path(inv.settings.report, inv.host.cwd)
    summary_file = env.get(SUMMARY_ENV, "")
    if path is None and not summary_file:
        return None
    try:
        report = gather(inv, recorder, logs, error, report_dir=path.parent if path else None)
    except Exception as exc:  # the report must never break the run
        log.warning("no report written: %s: %s", type(exc).__name__, exc)
        return None
    if path is not None and not _written(path, lambda: reporthtml.render(report), replace=True):
        path = None
    if summary_file:
        _written(Path(summary_file), lambda: markdown.render(report), replace=False)
    return path


def _written(path: Path, text: Callable[[], str], *, replace: bool) -> bool:
    """Write (through a temporary file, so a reader never sees half a report) or append; False
    and one warning when that fails."""
    try:
        content = text()
        if not replace:
            with path.open("a", encoding="utf-8") as summary_file:
                summary_file.write(content)
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(content)
            Path(tmp).chmod(0o644)  # mkstemp made it 0600; a report is for reading
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except Exception as exc:  # the report must never break the run
        log.warning("the report could not be written to %s: %s: %s", path, type(exc).__name__, exc)
        return False
    return True
