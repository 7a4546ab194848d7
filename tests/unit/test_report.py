"""The run's report, pure: phases from the recorded states, the HTML page (self-contained, every
run-given text escaped), the Markdown job summary (a valid table per platform, failures first),
gathering what a run that a signal or --fail-fast ended knew, and writing that never fails a run."""

from __future__ import annotations

import html.parser
import logging
import signal
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from ci.errors import ImageBuildError
from ci.output import markdown, outcomes, report, reporthtml, timeline
from ci.output.outcomes import CacheCounts, FailedTest, Outcome, junit_failures
from ci.output.progress import Quiet
from ci.output.timeline import Bar, Recorder, phases
from ci.running.signals import Interrupted
from tests.unit.helpers import plan

EVIL = "<script>alert('x')</script>"
CTEST_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="ctest.s390x" tests="3" failures="2" skipped="0">
  <testcase name="order.ok" classname="s390x.order.ok" status="run"/>
  <testcase name="order.little" classname="s390x.order.little" status="fail">
    <failure message="Failed"/>
    <system-out>line 1
expected little-endian, got big-endian</system-out>
  </testcase>
  <testcase name="{EVIL.replace("<", "&lt;").replace(">", "&gt;")}" status="fail">
    <error message="SEGFAULT">core dumped</error></testcase>
</testsuite>
"""


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_junit_failures_carry_message_and_the_end_of_their_output() -> None:
    first, second = junit_failures(CTEST_XML)
    assert first == FailedTest(
        name="order.little", message="Failed", output="line 1\nexpected little-endian, got big-endian"
    )
    assert second.name == EVIL and second.message == "SEGFAULT\ncore dumped"


def test_phases_run_from_waiting_through_each_state_to_the_final_one() -> None:
    events = [(0.5, "image"), (1.0, "building"), (3.0, "testing"), (4.5, "passed")]
    assert [(b.phase, b.start, b.end) for b in phases("p", events, None, 9.0)] == [
        ("waiting", 0.0, 0.5),
        ("image", 0.5, 1.0),
        ("building", 1.0, 3.0),
        ("testing", 3.0, 4.5),
    ]


def test_a_platform_the_run_ended_before_it_did_ends_now_unfinished() -> None:
    bars = phases("p", [(0.0, "image"), (2.0, "testing")], None, 7.0)
    assert bars[-1] == Bar(platform="p", phase="testing", start=2.0, end=7.0, unfinished=True)
    never = phases("q", [], 3.0, 7.0)  # --fail-fast stopped it before it started
    assert never == [Bar(platform="q", phase="waiting", start=0.0, end=3.0)]


def test_the_recorder_passes_states_on_and_times_them() -> None:
    clock = Clock()
    seen: list[tuple[str, str]] = []

    class Inner(Quiet):
        def state(self, platform: str, state: str) -> None:
            seen.append((platform, state))

    recorder = Recorder(["a", "b"], clock=clock)
    recorder.inner = Inner()
    clock.t = 101.0
    recorder.state("a", "image")
    clock.t = 103.0
    recorder.state("a", "passed")
    recorder.outcome(Outcome(platform="a", status=0, seconds=2.0))
    clock.t = 104.0
    assert seen == [("a", "image"), ("a", "passed")]
    assert [(b.platform, b.phase, b.start, b.end, b.unfinished) for b in recorder.bars()] == [
        ("a", "waiting", 0.0, 1.0, False),
        ("a", "image", 1.0, 3.0, False),
        ("b", "waiting", 0.0, 4.0, True),
    ]


def sample_report(**changes: object) -> report.Report:
    failed = report.Entry(
        platform="s390x",
        status="failed (exit 8)",
        passed=False,
        seconds=5.0,
        build_system="cmake",
        tests=outcomes.TestTally(passed=1, failed=2, skipped=0),
        failures=tuple(junit_failures(CTEST_XML)),
        cache="50% (1/2)",
        image="ciharness/s390x:abc",
        hints=("a hint with <b>bold</b> | pipes",),
        tail=("```", "make: *** [all] Error 1", EVIL),
        log="/b/build.s390x/build.log",
        log_href="build.s390x/build.log",
    )
    ok = report.Entry(
        platform="amd64",
        status="ok",
        passed=True,
        seconds=2.0,
        tests=outcomes.TestTally(passed=3, failed=0, skipped=1),
    )
    values: dict[str, object] = {
        "title": "ciharness: amd64, s390x",
        "started_wall": 1.8e9,
        "seconds": 6.0,
        "status": 8,
        "ended_by": "",
        "entries": (failed, ok),
        "bars": (
            Bar(platform="amd64", phase="building", start=0.0, end=2.0),
            Bar(platform="s390x", phase="testing", start=1.0, end=5.0),
        ),
        "lanes": ("amd64", "s390x"),
        "cores": 2,
        "parallel": 4,
    }
    values.update(changes)
    return report.Report(**values)  # type: ignore[arg-type]


class Page(html.parser.HTMLParser):
    """The tags and the text a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Page:
    p = Page()
    p.feed(page)
    return p


def test_the_page_is_self_contained_and_shows_the_run_given_text_as_text() -> None:
    page = reporthtml.render(sample_report())
    tags = parsed(page)
    names = [t for t, _ in tags.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    assert "b" not in names  # the hint's <b> is text
    assert not [
        a for _, a in tags.tags if any(str(v).startswith(("http:", "https:", "//")) for v in a.values())
    ]
    text = "".join(tags.text)
    assert EVIL in text and "a hint with <b>bold</b> | pipes" in text
    assert "expected little-endian, got big-endian" in text and "SEGFAULT" in text
    csp = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in str(csp[0]["content"])


def test_the_page_has_a_timeline_lane_per_platform_and_a_log_link() -> None:
    tags = parsed(reporthtml.render(sample_report())).tags
    lanes = [a["data-platform"] for t, a in tags if t == "g" and a.get("class") == "lane"]
    assert lanes == ["amd64", "s390x"]
    assert [a.get("data-phase") for t, a in tags if t == "rect"] == ["building", "testing"]
    assert ("a", {"class": "log", "href": "build.s390x/build.log"}) in tags


def test_the_timeline_axis_has_round_ticks() -> None:
    assert timeline.tick_step(6.0) == 1.0
    assert timeline.tick_step(95.0) == 10.0
    assert timeline.tick_text(90.0) == "1m30s"


def tables(md: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) of every table the Markdown holds, as GitHub's parser (tables on) sees it."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    found: list[tuple[list[str], list[list[str]]]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "table_open":
            found.append(([], []))
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close" and row is not None:
            header, rows = found[-1]
            if header:
                rows.append(row)
            else:
                header.extend(row)
            row = None
    return found


def test_markdown_has_a_valid_table_per_platform_failures_first() -> None:
    md = markdown.render(sample_report())
    found = tables(md)
    assert len(found) == 2
    for header, rows in found:
        assert header == markdown.HEADER
        assert len(rows) == 1 and len(rows[0]) == len(header)
    assert md.index("### ❌ s390x") < md.index("### ✅ amd64")
    assert f"**{markdown.text(EVIL)}**" in md  # the test's name, escaped (the output is in a code block)
    assert "\\|" in md  # the hint's pipe is no cell border
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script>" not in rendered and "&lt;b&gt;bold" in rendered
    assert rendered.count("&lt;script&gt;alert") == 2  # the test's name, and its output's last line
    assert "make: *** [all] Error 1" in rendered  # the tail, in a block its own ``` cannot close


def test_report_path_is_relative_to_the_current_dir_and_none_is_none(tmp_path: Path) -> None:
    assert report.report_path("build-report.html", tmp_path) == tmp_path / "build-report.html"
    assert report.report_path("/x/r.html", tmp_path) == Path("/x/r.html")
    assert report.report_path("none", tmp_path) is None


def test_gather_tells_what_ended_the_run_and_what_each_platform_got_to(project: Path) -> None:
    inv = plan(project, "-p", "amd64,other,arm64")
    clock = Clock()
    recorder = Recorder(["amd64", "other", "arm64"], clock=clock)
    recorder.state("amd64", "image")
    recorder.state("amd64", "failed")
    recorder.outcome(
        Outcome(
            platform="amd64",
            status=8,
            seconds=1.0,
            failures=(FailedTest(name="t", message="boom"),),
            cache=CacheCounts(hits=1, misses=1),
        )
    )
    recorder.state("other", "image")
    clock.t += 2
    recorder.state("other", "testing")
    clock.t += 1
    got = report.gather(inv, recorder, {}, Interrupted(signal.SIGTERM))
    assert got.status == 143 and got.ended_by == "interrupted by SIGTERM"
    by_name = {e.platform: e for e in got.entries}
    assert by_name["amd64"].status == "failed (exit 8)" and by_name["amd64"].cache == "50% (1/2)"
    assert by_name["amd64"].image.startswith("ciharness/amd64:")
    assert by_name["other"].status == "did not finish (ended during tests)"
    assert by_name["arm64"].status == "not started"
    assert [e.passed for e in got.entries] == [False, False, False]
    stopped = Outcome(platform="x", status=1, seconds=0.0, error="not run (--fail-fast)", ran=False)
    assert report.ended_by(None, [stopped]) == ("stopped by --fail-fast", None)
    assert report.ended_by(KeyboardInterrupt(), []) == ("interrupted by SIGINT", 130)


def test_the_error_that_ended_a_one_platform_run_is_its_status(project: Path) -> None:
    inv = plan(project, "-p", "amd64")
    recorder = Recorder(["amd64"])
    recorder.state("amd64", "image")
    recorder.state("amd64", "failed")
    got = report.gather(inv, recorder, {}, ImageBuildError("the image build failed: step 3"))
    assert (
        got.status == int(ImageBuildError.code) and got.ended_by == "stopped: the image build failed: step 3"
    )
    (only,) = got.entries
    assert only.status == f"the image build failed: step 3 (exit {int(ImageBuildError.code)})"


def test_a_report_that_cannot_be_written_is_one_warning(
    project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    inv = plan(project, "-p", "amd64", "--report", str(blocker / "r.html"))
    summary = tmp_path / "summary.md"
    with caplog.at_level(logging.WARNING):
        written = report.write(inv, Recorder(["amd64"]), {}, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert written is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"the report could not be written to {blocker / 'r.html'}: ")
    assert "| status |" in summary.read_text(encoding="utf-8")  # the job summary still written


def test_a_report_is_written_where_asked_and_none_writes_nothing(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "r.html"
    inv = plan(project, "-p", "amd64", "--report", str(target))
    assert report.write(inv, Recorder(["amd64"]), {}, {}) == target
    assert "<svg" in target.read_text(encoding="utf-8")
    none = plan(project, "-p", "amd64", "--report", "none")
    assert report.write(none, Recorder(["amd64"]), {}, {}) is None
