"""--coverage's pure parts: the toolchain it makes, gcovr's summary read back, the figures in the
run's line, the table, the HTML report and the job summary, and the merge's plan."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ci.errors import ProjectValueError
from ci.output import coverage, markdown, outcomes, reporthtml, summary
from ci.output.outcomes import Outcome
from ci.planning import toolchains
from ci.running import coveragemerge
from tests.unit.helpers import plan
from tests.unit.test_report import parsed, sample_report

SUMMARY = {
    "line_covered": 367,
    "line_total": 392,
    "line_percent": 93.6,
    "branch_covered": 124,
    "branch_total": 156,
    "function_covered": 35,
    "function_total": 35,
    "files": [],
}


def write_summary(directory: Path, data: dict[str, object] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / coverage.SUMMARY).write_text(json.dumps(data or SUMMARY))
    (directory / coverage.TRACEFILE).write_text("{}")
    return directory


def test_coverage_is_a_toolchain_part_with_its_own_build_dir_env_and_image_lines() -> None:
    gcc = toolchains.Toolchain(coverage=True)
    assert not gcc.default and gcc.label == "coverage" and gcc.env() == {"CI_COVERAGE": "1"}
    assert gcc.image_lines() == ("coverage gcc",) and gcc.describe() == "gcc, coverage"
    clang = toolchains.Toolchain(family="clang", version=19, sanitize=("address",), coverage=True)
    assert clang.label == "clang-19.address.coverage"
    assert clang.image_lines() == ("compiler clang 19", "sanitize address", "coverage clang 19")


def test_the_summary_gcovr_left_is_read_when_this_run_wrote_it(tmp_path: Path) -> None:
    write_summary(tmp_path / "coverage")
    found = coverage.read(tmp_path, time.time() - 10)
    assert found is not None and found.html == tmp_path / "coverage" / "index.html"
    assert found.describe() == "lines 93.6% (367/392), branches 79.5% (124/156)"
    assert found.short() == "93.6% lines, 79.5% branches"
    old = time.time() - 100
    os.utime(tmp_path / "coverage" / coverage.SUMMARY, (old, old))
    assert coverage.read(tmp_path, time.time() - 10) is None  # an earlier run's
    assert coverage.read(tmp_path / "none", 0.0) is None
    (tmp_path / "coverage" / coverage.SUMMARY).write_text("{not json")
    assert coverage.read(tmp_path, 0.0) is None


def test_a_rate_shows_one_decimal_and_never_a_full_one_that_is_not() -> None:
    assert coverage.percent(124 / 156) == "79.5%"
    assert coverage.percent(9996 / 10000) == "99.9%"
    assert coverage.percent(1.0) == "100.0%" and coverage.percent(0.0) == "0.0%"
    assert coverage.percent(None) == "-"
    none = coverage.Coverage(lines_covered=0, lines_total=0, directory=Path("c"))
    assert none.describe() == "lines - (0/0)" and none.short() == "- lines"


def test_the_merged_report_sits_beside_the_build_dirs(tmp_path: Path) -> None:
    assert coverage.merged_dir(None, tmp_path) == tmp_path / "build.coverage"
    assert coverage.merged_dir(Path("out/b"), tmp_path) == tmp_path / "out" / "b.coverage"
    assert coverage.merged_dir(Path("/abs/b"), tmp_path) == Path("/abs/b.coverage")


def measured(tmp_path: Path, name: str, **changes: object) -> Outcome:
    found = coverage.read_dir(write_summary(tmp_path / name / "coverage"))
    values: dict[str, object] = {"platform": name, "status": 0, "seconds": 1.0, "coverage": found}
    values.update(changes)
    return Outcome(**values)  # type: ignore[arg-type]


def test_the_run_line_and_the_table_carry_the_figures_only_when_measured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    summary.report(measured(tmp_path, "amd64", tests=outcomes.TestTally(passed=2, failed=0, skipped=0)))
    index = tmp_path / "amd64" / "coverage" / "index.html"
    assert f"coverage lines 93.6% (367/392), branches 79.5% (124/156): {index}" in caplog.text
    plain = Outcome(platform="s390x", status=0, seconds=1.0)
    assert "coverage" not in summary.table([plain])
    table = summary.table([measured(tmp_path, "amd64"), plain]).splitlines()
    assert table[0].split()[-1] == "coverage"
    assert table[2].endswith("93.6% lines, 79.5% branches") and table[3].endswith("-")


def test_the_report_links_each_jobs_coverage_and_the_merged_one() -> None:
    first, second = sample_report().entries

    covered = replace(
        second, coverage="lines 50.0% (1/2)", coverage_short="50.0% lines", coverage_href="b/c/index.html"
    )
    page = reporthtml.render(
        sample_report(
            entries=(first, covered),
            merged_coverage="lines 75.0% (3/4)",
            merged_coverage_href="build.coverage/index.html",
        )
    )
    links = [a.get("href") for t, a in parsed(page).tags if t == "a" and a.get("class") == "coverage"]
    assert links == [
        "b/c/index.html",
        "build.coverage/index.html",
        "b/c/index.html",
    ]  # table, merged, section
    text = "".join(parsed(page).text)
    assert "50.0% lines" in text and "lines 75.0% (3/4)" in text
    job_summary = markdown.render(
        sample_report(entries=(first, covered), merged_coverage="lines 75.0% (3/4)")
    )
    shown = job_summary.replace("\\", "")  # Markdown's escapes
    assert "Coverage of every job together: lines 75.0% (3/4)" in shown
    assert "Coverage: lines 50.0% (1/2) (b/c/index.html)" in shown
    assert "coverage" not in reporthtml.render(sample_report())  # a run that did not measure it


def test_the_merge_reads_every_measured_job_and_runs_where_gcovr_needs_no_qemu(
    tmp_path: Path, project: Path
) -> None:
    inv = plan(project, "-p", "arm64,amd64,other")
    done = [
        measured(tmp_path, "arm64", way="emulated", image="ciharness/arm64:x"),
        measured(tmp_path, "amd64", way="native", image="ciharness/amd64:y"),
        Outcome(platform="other", status=8, seconds=1.0),  # its tests never ran: nothing to merge
    ]
    runs = list(inv.platforms)
    merge = coveragemerge.plan(done, runs, tmp_path / "build.coverage")
    assert merge is not None and merge.image == "ciharness/amd64:y"
    assert [job for job, _ in merge.tracefiles] == ["arm64", "amd64"]
    command = merge.command()
    assert command[command.index("--root") + 1] == coveragemerge.SOURCE
    assert command.count("--json-add-tracefile") == 2 and "--cobertura" in command
    assert f"{tmp_path / 'amd64' / 'coverage'}:{coveragemerge.JOBS}/1:ro" in merge.binds(tmp_path / "src")
    assert f"{tmp_path / 'src'}:{coveragemerge.SOURCE}:ro" in merge.binds(tmp_path / "src")
    assert coveragemerge.plan(done[1:], runs, tmp_path / "m") is None  # one job: nothing to merge


def test_coverage_comes_from_the_project_file_per_platform_and_variant_under_the_command_line(
    tmp_path: Path,
) -> None:
    from ci.planning.projectsettings import for_platform
    from ci.settings import projectfile
    from ci.settings.options import parse_args

    text = "[platform.s390x]\ncoverage = true\n[variant.cov]\ncoverage = true\n"
    (tmp_path / "CMakeLists.txt").write_text("project(x C)\n")
    found = projectfile.parse(text, tmp_path / "ciharness.toml")

    def measured(argv: list[str], platform: str, variant: str = "") -> bool:
        opts = parse_args(argv, project=found)
        planned = for_platform(opts, platform, tmp_path, default_step=True, suite="trixie", variant=variant)
        return planned.toolchain.coverage and "coverage gcc" in planned.needs.toolchain

    assert not measured(["-p", "amd64"], "amd64") and measured(["-p", "s390x"], "s390x")
    assert measured(["-p", "amd64", "--variant", "cov"], "amd64", "cov")
    assert measured(["-p", "amd64", "--coverage"], "amd64")
    bad = 'coverage = "yes"\n'
    with pytest.raises(ProjectValueError, match=r"ciharness.toml:1: coverage must be true or false"):
        projectfile.parse(bad, tmp_path / "ciharness.toml")


def test_a_run_asked_for_coverage_whose_tests_ran_and_made_none_fails_even_when_quarantined(
    tmp_path: Path,
) -> None:
    from ci.buildsystems import Choice, junit
    from ci.errors import ExitCode
    from ci.output import attempts

    (tmp_path / "junit").mkdir()
    cases = [
        junit.Case(name="known_bad", status="failed", message="bad"),
        junit.Case(name="ok", status="passed"),
    ]
    build = Choice(system="cmake", reason="test")
    started = time.time() - 5

    def collect(status: int, expect: bool = True) -> Outcome:
        (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
        (tmp_path / attempts.TEST_STATUS).write_text(f"{status}\n")
        return outcomes.collect(
            "amd64", status, 1.0, tmp_path, started_wall=started, build=build,
            quarantine=("known_bad",), expect_coverage=expect,
        )  # fmt: skip

    missing = collect(8)  # only the quarantined test failed: a pass, but for the missing report
    assert (missing.status, missing.error) == (ExitCode.COVERAGE_MISSING, outcomes.NO_COVERAGE)
    assert summary.known_causes(missing) == [summary.NO_COVERAGE_HINT]
    assert "made no coverage report" in summary.status_text(missing)
    assert collect(8, expect=False).status == 0  # not asked: nothing missing
    write_summary(tmp_path / "coverage")
    made = collect(8)
    assert made.status == 0 and made.coverage is not None
    (tmp_path / attempts.TEST_STATUS).unlink()
    never = outcomes.collect("amd64", 2, 1.0, tmp_path / "none", started_wall=started, expect_coverage=True)
    assert never.status == 2  # its tests never ran (the build failed): that failure is the run's


def test_a_release_of_binaries_built_for_coverage_is_refused(project: Path) -> None:
    from ci.errors import UsageError

    with pytest.raises(UsageError, match="--release would ship amd64's binaries built with --coverage"):
        plan(project, "-p", "amd64", "--coverage", "--release", "1.0", "--push", "127.0.0.1:5000/x")
    assert plan(project, "-p", "amd64", "--release", "1.0", "--push", "127.0.0.1:5000/x").release
