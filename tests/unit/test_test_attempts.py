"""runtime_functions.sh's test attempts (_test_attempts), run by bash with stand-in test runners
(a run that fails a given number of times): how many attempts, which are kept for build.py, the
one alone after a parallel run; and how many tests run at a time (ci.planning.testjobs)."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from ci.planning import testjobs

SCRIPT = Path(__file__).resolve().parents[2] / "runtime_functions.sh"
# Stand-ins: each run appends to runs.txt and writes result.txt; it fails until FAILS runs are done.
RUNNERS = """
_fake() {
    echo "$1" >>"$CI_BUILD_DIR/runs.txt"
    local n; n=$(wc -l <"$CI_BUILD_DIR/runs.txt")
    echo "run $n" >"$CI_BUILD_DIR/result.txt"
    [ "$n" -gt "$FAILS" ]
}
_all() { _fake all; }
_again() { _fake again; }
_files() { echo result.txt; }
_test_attempts _all _again _files
"""


def attempts(tmp_path: Path, fails: int, retries: int, alone: bool = False) -> tuple[int, list[str]]:
    functions = "\n".join(SCRIPT.read_text().splitlines()[:-1])  # all but `_dispatch "$@"`
    env = {
        "PATH": "/usr/bin:/bin",
        "CI_BUILD_DIR": str(tmp_path),
        "FAILS": str(fails),
        "CI_RETRIES": str(retries),
        "CI_RERUN_ALONE": "1" if alone else "0",
        "CI_TEST_JOBS": "2",
    }
    done = subprocess.run(
        ["bash", "-c", functions + RUNNERS], env=env, capture_output=True, text=True, check=False
    )
    runs = (tmp_path / "runs.txt").read_text().split() if (tmp_path / "runs.txt").exists() else []
    return done.returncode, runs


def kept(tmp_path: Path) -> list[str]:
    """Each kept attempt's result.txt, in order."""
    found = []
    for tar in sorted((tmp_path / ".ciharness-attempts").glob("*.tar"), key=lambda p: int(p.stem)):
        with tarfile.open(tar) as archive:
            member = archive.extractfile("result.txt")
            found.append(member.read().decode().strip() if member else "")
    return found


def test_a_pass_at_first_keeps_no_attempts(tmp_path: Path) -> None:
    assert attempts(tmp_path, fails=0, retries=2) == (0, ["all"])
    assert not (tmp_path / ".ciharness-attempts").exists()


def test_failed_tests_run_again_until_they_pass_and_every_attempt_is_kept(tmp_path: Path) -> None:
    assert attempts(tmp_path, fails=2, retries=2) == (0, ["all", "again", "again"])
    assert kept(tmp_path) == ["run 1", "run 2", "run 3"]


def test_out_of_retries_the_last_attempts_status_is_the_runs(tmp_path: Path) -> None:
    status, runs = attempts(tmp_path, fails=9, retries=1)
    assert status != 0 and runs == ["all", "again"]
    assert not (tmp_path / ".ciharness-attempts" / "alone").exists()


def test_without_retries_a_failure_is_final(tmp_path: Path) -> None:
    status, runs = attempts(tmp_path, fails=1, retries=0)
    assert status != 0 and runs == ["all"] and not (tmp_path / ".ciharness-attempts").exists()


def test_after_a_parallel_run_the_failures_run_alone_first_besides_the_retries(tmp_path: Path) -> None:
    status, runs = attempts(tmp_path, fails=9, retries=1, alone=True)
    assert status != 0 and runs == ["all", "again", "again"]
    assert (tmp_path / ".ciharness-attempts" / "alone").read_text().strip() == "2"
    again = tmp_path / "again"
    again.mkdir()
    status, runs = attempts(again, fails=1, retries=0, alone=True)  # passed alone: the run passes
    assert status == 0 and runs == ["all", "again"]


@pytest.mark.parametrize(
    ("asked", "emulated", "jobs", "expected"),
    [
        (None, True, 4, {"CI_TEST_JOBS": "4", "CI_RERUN_ALONE": "1"}),  # under QEMU: the build's jobs
        (None, False, 4, {"CI_TEST_JOBS": "", "CI_RERUN_ALONE": "0"}),  # natively: the project's way
        (None, True, 1, {"CI_TEST_JOBS": "", "CI_RERUN_ALONE": "0"}),  # one core: nothing to share
        (1, True, 4, {"CI_TEST_JOBS": "1", "CI_RERUN_ALONE": "0"}),  # --test-jobs 1: as before
        (3, True, 4, {"CI_TEST_JOBS": "3", "CI_RERUN_ALONE": "0"}),  # asked: no rerun alone
    ],
)
def test_how_many_tests_run_at_a_time(
    asked: int | None, emulated: bool, jobs: int, expected: dict[str, str]
) -> None:
    assert testjobs.env(asked, emulated=emulated, jobs=jobs) == expected
