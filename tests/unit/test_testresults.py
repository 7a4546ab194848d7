"""Every build system's results as JUnit XML labelled per platform, and a default step that ran no
test is not a pass."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from ci.buildsystems import Choice, autotools, junit, make, meson
from ci.errors import ExitCode
from ci.output import outcomes, summary


def meson_line(name: str, result: str, code: int = 0, stdout: str = "", command: object = "") -> str:
    """A line of meson-logs/testlog.json as Meson 1.7 writes it (keys seen in a real one)."""
    return json.dumps(
        {"name": name, "stdout": stdout, "result": result, "starttime": 1795774362.55, "duration": 0.25,
         "returncode": code, "env": {"PATH": "/usr/bin"},
         "command": [f"/work/build/{name}"] if command == "" else command}
    )  # fmt: skip


MESON_LOG = "\n".join(
    [
        meson_line("endian", "OK"),
        meson_line("broken", "FAIL", 1, "expected 1, got 2\n"),
        meson_line("optional", "SKIP", 77),
        meson_line("known-bad", "EXPECTEDFAIL", 1),
    ]
)


def parse(xml_text: str) -> ET.Element:
    return ET.fromstring(xml_text)


def test_meson_results_become_a_labelled_suite() -> None:
    cases = meson.from_testlog(MESON_LOG)
    assert [(c.name, c.status) for c in cases] == [
        ("endian", "passed"),
        ("broken", "failed"),
        ("optional", "skipped"),
        ("known-bad", "passed"),
    ]
    root = parse(junit.to_junit("meson", "s390x", cases))
    assert root.get("name") == "meson.s390x"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    assert [c.get("classname") for c in root.iter("testcase")][:2] == ["s390x.endian", "s390x.broken"]
    failure = root.find("testcase[@name='broken']/failure")
    assert failure is not None and "exit status 1" in (failure.get("message") or "")
    out = root.find("testcase[@name='broken']/system-out")
    assert out is not None and "expected 1, got 2" in (out.text or "")


def test_a_cross_binary_meson_could_not_run_is_a_failure_not_a_skip() -> None:
    # Meson 1.7, a cross file without exe_wrapper: SKIP, exit 77 and no command.
    not_run = meson_line("t", "SKIP", 77, "", command=None)
    (case,) = meson.from_testlog(not_run)
    assert case.status == "failed" and "exe_wrapper" in case.message
    (chosen,) = meson.from_testlog(meson_line("t", "SKIP", 77, "not here\n"))  # the test's own exit 77
    assert chosen.status == "skipped"


def test_automake_trs_files_plain_and_tap() -> None:
    cases = autotools.from_automake(
        [
            ("tests/a", ":test-result: PASS\n:global-test-result: PASS\n:recheck: no\n", "a ok\n"),
            ("tests/b", ":test-result: FAIL\n:global-test-result: FAIL\n:recheck: yes\n", "b: boom\n"),
            ("tests/c", ":test-result: SKIP\n", ""),
            ("tests/d", ":test-result: XFAIL\n", ""),
            ("tests/e", ":test-result: XPASS\n", ""),
            ("tests/tap", ":test-result: PASS 1 one\n:test-result: ERROR 2 two\n", ""),
        ]
    )
    assert [(c.name, c.status) for c in cases] == [
        ("tests/a", "passed"),
        ("tests/b", "failed"),
        ("tests/c", "skipped"),
        ("tests/d", "passed"),
        ("tests/e", "failed"),
        ("tests/tap 1", "passed"),
        ("tests/tap 2", "failed"),
    ]
    assert cases[1].output == "b: boom\n"


def test_a_make_check_target_is_one_case_carrying_its_output() -> None:
    (case,) = make.from_record("target=check\nstatus=2\nseconds=1.5\n", "FAIL: one\n")
    assert (case.name, case.status, case.seconds) == ("make check", "failed", 1.5)
    assert case.output == "FAIL: one\n" and "status 2" in case.message
    assert make.from_record("target=\nstatus=0\n", "") == []


def test_test_names_and_output_are_escaped() -> None:
    case = junit.Case(name='<script>"&', status="failed", message="<b>", output="\x1b[31m&<x>")
    root = parse(junit.to_junit("make", "amd64", [case]))
    (element,) = root.iter("testcase")
    assert element.get("name") == '<script>"&'


def collect(build_dir: Path, system: str, **kwargs: object) -> outcomes.Outcome:
    return outcomes.collect(
        "armv7", 0, 1.0, build_dir, started_wall=time.time() - 0.5,
        build=Choice(system=system, reason="x"), **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_collect_writes_meson_junit_and_counts_it(tmp_path: Path) -> None:
    (tmp_path / "meson-logs").mkdir()
    (tmp_path / "meson-logs" / "testlog.json").write_text(MESON_LOG, encoding="utf-8")
    outcome = collect(tmp_path, "meson")
    xml_file = tmp_path / "junit" / "meson-armv7.xml"
    assert xml_file.is_file() and parse(xml_file.read_text()).get("name") == "meson.armv7"
    assert outcome.tests == outcomes.TestTally(passed=2, failed=1, skipped=1)
    assert outcome.failed_tests == ("broken",) and outcome.build_system == "meson"


def test_collect_reads_automake_trs_under_the_build_dir(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t1.trs").write_text(":test-result: PASS\n", encoding="utf-8")
    (tmp_path / "tests" / "t1.log").write_text("ok\n", encoding="utf-8")
    outcome = collect(tmp_path, "autotools")
    assert outcome.status == 0 and outcome.tests == outcomes.TestTally(passed=1, failed=0, skipped=0)
    assert (tmp_path / "junit" / "automake-armv7.xml").is_file()


def test_a_run_that_ran_no_test_is_not_green(tmp_path: Path) -> None:
    outcome = collect(tmp_path, "cmake")  # ctest wrote nothing: none defined
    assert outcome.status == ExitCode.NO_TESTS and outcome.error == outcomes.NO_TESTS
    assert "ran no test" in summary.status_text(outcome)
    assert "--no-tests" in summary.known_causes(outcome)[0]
    (tmp_path / make.CHECK_RECORD).write_text("target=\nstatus=0\n", encoding="utf-8")
    assert collect(tmp_path, "make").status == ExitCode.NO_TESTS  # no check or test target


def test_every_test_skipped_is_no_test_run(tmp_path: Path) -> None:
    (tmp_path / "meson-logs").mkdir()
    (tmp_path / "meson-logs" / "testlog.json").write_text(meson_line("a", "SKIP", 77), encoding="utf-8")
    assert collect(tmp_path, "meson").status == ExitCode.NO_TESTS


def test_a_project_that_has_none_says_so(tmp_path: Path) -> None:
    assert collect(tmp_path, "cmake", expect_tests=False).status == 0
    # Any other command than the default step tests what it likes.
    plain = outcomes.collect("armv7", 0, 1.0, tmp_path, started_wall=time.time())
    assert plain.status == 0 and plain.build_system == ""


def test_a_failed_build_keeps_its_own_status(tmp_path: Path) -> None:
    outcome = outcomes.collect(
        "armv7", 2, 1.0, tmp_path, started_wall=time.time(), build=Choice(system="cmake", reason="x")
    )
    assert outcome.status == 2 and outcome.error == ""


def test_results_of_an_earlier_run_are_not_counted(tmp_path: Path) -> None:
    (tmp_path / "junit").mkdir()
    old = tmp_path / "junit" / "ctest-armv7.xml"
    old.write_text('<testsuite tests="3" failures="0"/>', encoding="utf-8")
    past = time.time() - 3600
    os.utime(old, (past, past))
    assert collect(tmp_path, "cmake").status == ExitCode.NO_TESTS


# A DejaGnu run as automake's dejagnu option leaves it (runtest 1.6.3 in the amd64 build image),
# with a second .exp file whose results are of every other kind.
DEJAGNU_SUM = """\
Test run by root on Sun Dec  6 06:48:01 2026
Native configuration is x86_64-pc-linux-gnu

\t\t=== greet tests ===

Schedule of variations:
    unix

Running target unix
Running /work/src/testsuite/greet.all/hello.exp ...
PASS: greet says hello
FAIL: greet says goodbye
Running /work/src/testsuite/greet.all/odd.exp ...
XFAIL: known to fail
XPASS: fixed by accident
UNRESOLVED: could not tell
UNTESTED: not written yet
UNSUPPORTED: needs a tty

\t\t=== greet Summary ===

# of expected passes\t\t1
# of unexpected failures\t1
"""
DEJAGNU_LOG = """\
Test run by root on Sun Dec  6 06:48:01 2026
Running /work/src/testsuite/greet.all/hello.exp ...
spawn /work/build/greet
hello
PASS: greet says hello
spawn /work/build/greet bye
hello
FAIL: greet says goodbye
testcase /work/src/testsuite/greet.all/hello.exp completed in 0 seconds
Running /work/src/testsuite/greet.all/odd.exp ...
spawn /work/build/greet odd
XPASS: fixed by accident
"""


def test_dejagnu_results_become_cases_classed_by_their_exp_file() -> None:
    assert autotools.is_dejagnu_sum(DEJAGNU_SUM) and not autotools.is_dejagnu_sum("abc  file.c\n")
    cases = autotools.from_dejagnu("greet", DEJAGNU_SUM, DEJAGNU_LOG)
    got = [(c.group, c.name, c.status) for c in cases]
    assert got == [
        ("greet.hello", "greet says hello", "passed"),
        ("greet.hello", "greet says goodbye", "failed"),
        ("greet.odd", "known to fail", "passed"),
        ("greet.odd", "fixed by accident", "failed"),
        ("greet.odd", "could not tell", "failed"),
        ("greet.odd", "not written yet", "skipped"),
        ("greet.odd", "needs a tty", "skipped"),
    ]
    failed = cases[1]
    assert failed.message == "FAIL: greet says goodbye"
    # Its output is what the .log says since the test before it, not the other tests' lines.
    assert failed.output == "spawn /work/build/greet bye\nhello\nFAIL: greet says goodbye"
    assert cases[3].output == "spawn /work/build/greet odd\nXPASS: fixed by accident"
    xml = junit.to_junit("dejagnu", "armv7", cases)
    root = ET.fromstring(xml)
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("skipped")) == (
        "dejagnu.armv7",
        "7",
        "3",
        "2",
    )
    first = root.find("testcase")
    assert first is not None and first.get("classname") == "armv7.greet.hello"


def test_collect_reads_dejagnu_sum_files_beside_automakes_trs(tmp_path: Path) -> None:
    (tmp_path / "testsuite").mkdir()
    (tmp_path / "testsuite" / "greet.sum").write_text(DEJAGNU_SUM)
    (tmp_path / "testsuite" / "greet.log").write_text(DEJAGNU_LOG)
    (tmp_path / "data.sum").write_text("d41d8cd98f00b204e9800998ecf8427e  empty\n")  # not DejaGnu's
    (tmp_path / "t.trs").write_text(":test-result: PASS\n")
    outcome = collect(tmp_path, "autotools")
    assert sorted(p.name for p in (tmp_path / "junit").iterdir()) == [
        "automake-armv7.xml",
        "dejagnu-armv7.xml",
    ]
    assert outcome.tests is not None
    assert (outcome.tests.passed, outcome.tests.failed, outcome.tests.skipped) == (3, 3, 2)
    assert "greet says goodbye" in outcome.failed_tests
