"""runtime_functions.sh's coverage step, run by bash with stand-ins: test runners that leave .gcda
counts, and a gcovr that says its version, records its arguments and writes the files it is
asked for (or fails). The counts of an earlier run go before the tests, a rerun's add to the
first's, the tests' status is left as it is, and where no report can be made the step says why
and leaves no summary.json (build.py then fails the run: tests/unit/test_coverage.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "runtime_functions.sh"
GCOVR = """#!/bin/bash
if [ "$1" = --version ]; then echo "gcovr ${FAKE_GCOVR_VERSION:-7.2}"; exit 0; fi
printf '%s\\n' "$PWD" "$@" >"$CI_BUILD_DIR/gcovr-args"
while [ "$#" -gt 0 ]; do
    case $1 in --json-summary) echo '{}' >"$2" ;; esac
    shift
done
exit "${FAKE_GCOVR_STATUS:-0}"
"""
# Each run leaves a .gcda (as an instrumented test would) and notes which it found from before.
RUNNERS = """
_fake() {
    ls "$CI_BUILD_DIR"/*.gcda >>"$CI_BUILD_DIR/seen.txt" 2>/dev/null || true
    echo "$1" >>"$CI_BUILD_DIR/runs.txt"
    touch "$CI_BUILD_DIR/$1.gcda"
    [ "$(wc -l <"$CI_BUILD_DIR/runs.txt")" -gt "$FAILS" ]
}
_all() { _fake all; }
_again() { _fake again; }
_files() { echo runs.txt; }
_test_attempts _all _again _files
"""


def step(tmp_path: Path, *, fails: int = 0, gcno: bool = True, **env: str) -> tuple[int, str, Path]:
    build, source, bin_dir = tmp_path / "build", tmp_path / "src", tmp_path / "bin"
    for d in (build, source, bin_dir):
        d.mkdir(exist_ok=True)
    (bin_dir / "gcovr").write_text(GCOVR)
    (bin_dir / "gcovr").chmod(0o755)
    if gcno:
        (build / "lib.c.gcno").write_text("")
    functions = "\n".join(SCRIPT.read_text().splitlines()[:-1])  # all but `_dispatch "$@"`
    full_env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CI_BUILD_DIR": str(build),
        "CI_SOURCE_DIR": str(source),
        "CI_COVERAGE": "1",
        "CI_GCOV": "arm-linux-gnueabihf-gcov",
        "CI_JOBS": "2",
        "CI_PLATFORM": "armv7",
        "CI_RETRIES": "1",
        "FAILS": str(fails),
        **env,
    }
    done = subprocess.run(
        ["bash", "-c", functions + RUNNERS], env=full_env, capture_output=True, text=True, check=False
    )
    return done.returncode, done.stderr, build


def test_gcovr_runs_after_the_tests_from_the_root_with_the_targets_gcov(tmp_path: Path) -> None:
    status, said, build = step(tmp_path)
    assert status == 0 and (build / "coverage" / "summary.json").is_file(), said
    args = (build / "gcovr-args").read_text().splitlines()
    assert args[0] == str(tmp_path / "src")  # run from the root: <source> is `.`
    assert args[args.index("--gcov-executable") + 1] == "arm-linux-gnueabihf-gcov"
    assert args[args.index("--root") + 1] == str(tmp_path / "src") and args[-1] == str(build)
    assert "==> coverage: gcovr with arm-linux-gnueabihf-gcov" in said


def test_an_earlier_runs_counts_go_before_the_tests_and_a_reruns_add_to_the_first(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "old.gcda").write_text("")
    status, said, build = step(tmp_path, fails=1)  # fails once, passes on its rerun
    assert status == 0, said
    seen = (build / "seen.txt").read_text().split()
    assert seen == [str(build / "all.gcda")]  # the rerun found the first run's; nobody the old one


def test_the_tests_status_stays_and_a_failing_gcovr_leaves_no_summary(tmp_path: Path) -> None:
    status, said, build = step(tmp_path, fails=9, FAKE_GCOVR_STATUS="1")
    assert status != 0 and not (build / "coverage" / "summary.json").exists()
    assert "coverage: gcovr failed" in said
    (build / "runs.txt").unlink()
    status, said, build = step(tmp_path, FAKE_GCOVR_STATUS="1")
    assert status == 0 and not (build / "coverage" / "summary.json").exists(), said  # build.py fails it


def test_nothing_instrumented_or_an_old_gcovr_is_said_and_no_report_made(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    status, said, build = step(tmp_path / "a", gcno=False)
    assert status == 0 and "no .gcno file: nothing was built with --coverage" in said
    assert not (build / "gcovr-args").exists() and not (build / "coverage").exists()
    (tmp_path / "b").mkdir()
    status, said, build = step(tmp_path / "b", FAKE_GCOVR_VERSION="5.2")
    assert "coverage: gcovr 5 in this image; 7 or later is needed" in said
    assert not (build / "gcovr-args").exists()


def test_an_earlier_report_goes_and_the_source_tree_is_searched_only_where_the_step_builds(
    tmp_path: Path,
) -> None:
    (tmp_path / "build" / "coverage").mkdir(parents=True)
    (tmp_path / "build" / "coverage" / "stale.html").write_text("")
    step(tmp_path)
    assert not (tmp_path / "build" / "coverage" / "stale.html").exists()
    args = (tmp_path / "build" / "gcovr-args").read_text().splitlines()
    assert str(tmp_path / "src") not in args[-2:]  # the build dir alone
    step(tmp_path, CI_BUILDS_IN_SOURCE="1")
    args = (tmp_path / "build" / "gcovr-args").read_text().splitlines()
    assert args[-2:] == [str(tmp_path / "build"), str(tmp_path / "src")]
