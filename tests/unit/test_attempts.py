"""Failed tests run again and the quarantine, as results (pure where it can be: cases in, cases or
JUnit out; the build dir's files where the readers and the tars are)."""

from __future__ import annotations

import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from ci.buildsystems import junit
from ci.buildsystems.junit import Case
from ci.output import attempts, outcomes


def case(name: str, status: junit.Status, message: str = "", output: str = "") -> Case:
    return Case(name=name, status=status, message=message, output=output)


def test_a_test_that_passes_on_a_rerun_is_flaky_with_its_failed_attempts() -> None:
    first = [case("a", "passed"), case("b", "failed", "exit 1", "boom 1"), case("c", "failed", "exit 2")]
    second = [case("b", "failed", "exit 1", "boom 2"), case("c", "passed")]
    third = [case("b", "passed", output="fine")]
    merged = {c.name: c for c in junit.merged([first, second, third])}
    assert [c.name for c in junit.merged([first, second, third])] == ["a", "b", "c"]  # the first's order
    assert not merged["a"].reruns and not merged["a"].flaky
    assert merged["b"].flaky and [r.output for r in merged["b"].reruns] == ["boom 1", "boom 2"]
    assert merged["b"].output == "fine"
    assert merged["c"].flaky and [r.message for r in merged["c"].reruns] == ["exit 2"]


def test_a_test_that_fails_every_attempt_fails_with_its_first_failure_and_the_reruns_after() -> None:
    merged = junit.merged([[case("b", "failed", "one")], [case("b", "failed", "two")]])
    assert merged[0].status == "failed" and merged[0].message == "one"  # as Surefire: the first run
    assert [r.message for r in merged[0].reruns] == ["two"] and not merged[0].flaky


def test_after_a_parallel_run_a_test_that_passed_alone_is_said_to_fail_with_others() -> None:
    first = [case("race", "failed", "got the other's word"), case("bad", "failed", "exit 1")]
    alone = [case("race", "passed"), case("bad", "failed", "exit 1")]
    merged = {c.name: c for c in junit.merged([first, alone], alone=2)}
    assert merged["race"].flaky
    assert merged["race"].reruns[0].message == junit.IN_PARALLEL + "got the other's word"
    assert merged["bad"].status == "failed" and not merged["bad"].message.startswith(junit.IN_PARALLEL)
    xml = junit.to_junit("ctest", "armv7", list(merged.values()))
    assert outcomes.junit_flaky_tests(xml, raced=True) == ["race"]
    assert outcomes.junit_flaky_tests(xml, raced=False) == []


def test_surefires_rerun_elements_and_back() -> None:
    cases = junit.merged(
        [
            [case("flaky", "failed", "first", "out 1"), case("broken", "failed", "one")],
            [case("flaky", "passed"), case("broken", "failed", "two")],
        ]
    )
    xml = junit.to_junit("ctest", "armv7", cases)
    suite = ET.fromstring(xml)
    flaky, broken = suite.findall("testcase")
    assert flaky.find("failure") is None
    assert [(f.get("message"), f.findtext("system-out")) for f in flaky.findall("flakyFailure")] == [
        ("first", "out 1")
    ]
    assert broken.find("failure") is not None and broken.find("failure").get("message") == "one"  # type: ignore[union-attr]
    assert [f.get("message") for f in broken.findall("rerunFailure")] == ["two"]
    assert suite.get("failures") == "1" and suite.get("tests") == "2"
    back = junit.from_junit(xml, "armv7")
    assert [(c.name, c.status, len(c.reruns)) for c in back] == [
        ("flaky", "passed", 1),
        ("broken", "failed", 1),
    ]
    tally = outcomes.junit_counts(xml)
    assert (tally.passed, tally.failed, tally.flaky) == (1, 1, 1)


def test_a_quarantined_failure_is_a_skip_that_says_so_and_fails_nothing() -> None:
    xml = junit.to_junit(
        "ctest", "amd64", [Case(name="net.dns", status="failed", message="timeout", quarantined=True)]
    )
    element = ET.fromstring(xml).find("testcase")
    assert element is not None and element.find("failure") is None
    assert element.find("skipped").get("message") == "quarantined: timeout"  # type: ignore[union-attr]
    assert outcomes.junit_counts(xml).failed == 0


def write_ctest_attempt(build: Path, n: int, cases: list[Case]) -> None:
    """An attempt's tar as runtime_functions.sh keeps it for ctest: junit/ctest-<platform>.xml."""
    staged = build / f"stage{n}"
    (staged / "junit").mkdir(parents=True)
    (staged / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    (build / attempts.ATTEMPTS).mkdir(exist_ok=True)
    with tarfile.open(build / attempts.ATTEMPTS / f"{n}.tar", "w") as tar:
        tar.add(staged / "junit", arcname="junit")


def test_ctests_attempts_merge_into_its_junit_file(tmp_path: Path) -> None:
    started = time.time()
    write_ctest_attempt(tmp_path, 1, [case("a", "passed"), case("flip", "failed", "first")])
    write_ctest_attempt(tmp_path, 2, [case("flip", "passed")])
    assert attempts.merge(tmp_path, "amd64", "cmake", started - 1)
    merged = (tmp_path / "junit" / "ctest-amd64.xml").read_text()
    assert outcomes.junit_flaky_tests(merged) == ["flip"]
    assert not attempts.merge(tmp_path, "amd64", "cmake", time.time() + 10)  # an earlier run's: left alone


def test_mesons_attempts_are_read_by_its_own_reader(tmp_path: Path) -> None:
    started = time.time()
    for n, lines in enumerate(
        [
            [
                '{"name": "ok", "result": "OK", "duration": 0.1}',
                '{"name": "flip", "result": "FAIL", "returncode": 1}',
            ],
            ['{"name": "flip", "result": "OK", "duration": 0.2}'],
        ],
        start=1,
    ):
        staged = tmp_path / f"s{n}" / "meson-logs"
        staged.mkdir(parents=True)
        (staged / "testlog.json").write_text("\n".join(lines) + "\n")
        (tmp_path / attempts.ATTEMPTS).mkdir(exist_ok=True)
        with tarfile.open(tmp_path / attempts.ATTEMPTS / f"{n}.tar", "w") as tar:
            tar.add(staged, arcname="meson-logs")
    assert attempts.merge(tmp_path, "armv7", "meson", started - 1)
    merged = (tmp_path / "junit" / "meson-armv7.xml").read_text()
    assert outcomes.junit_flaky_tests(merged) == ["flip"] and outcomes.junit_counts(merged).failed == 0


def test_the_quarantine_marks_failures_reports_passes_and_names_what_matched_nothing(tmp_path: Path) -> None:
    (tmp_path / "junit").mkdir()
    cases = [case("net.dns", "failed", "timeout"), case("net.ok", "passed"), case("core", "failed", "bad")]
    (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    held = attempts.quarantine(tmp_path, "amd64", ("net.*", "gone"), time.time() - 10)
    assert held == attempts.Quarantine(failed=("net.dns",), passed=("net.ok",), unmatched=("gone",))
    none_ran = attempts.quarantine(tmp_path, "amd64", ("gone",), time.time() + 10)
    assert none_ran == attempts.Quarantine()  # no test ran: nothing to say of its entries
    tally = outcomes.junit_counts((tmp_path / "junit" / "ctest-amd64.xml").read_text())
    assert (tally.failed, tally.skipped) == (1, 1)  # core still fails


def test_a_run_whose_only_failures_are_quarantined_passes(tmp_path: Path) -> None:
    from ci.buildsystems import Choice

    (tmp_path / "junit").mkdir()
    cases = [case("net.dns", "failed", "timeout"), case("core", "passed")]
    (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    build = Choice(system="cmake", reason="test")
    started = time.time() - 5
    (tmp_path / attempts.TEST_STATUS).write_text("8\n")  # the test phase ended with ctest's 8
    quarantine = ("net.dns",)
    held = outcomes.collect(
        "amd64", 8, 1.0, tmp_path, started_wall=started, build=build, quarantine=quarantine
    )
    assert held.status == 0 and held.quarantine.failed == ("net.dns",)
    # the run failed elsewhere (its test phase said 0): the quarantine clears nothing
    (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    (tmp_path / attempts.TEST_STATUS).write_text("0\n")
    later = outcomes.collect(
        "amd64", 137, 1.0, tmp_path, started_wall=started, build=build, quarantine=quarantine
    )
    assert later.status == 137
    (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    plain = outcomes.collect("amd64", 8, 1.0, tmp_path, started_wall=started, build=build)
    assert plain.status == 8 and plain.failed_tests == ("net.dns",)


def test_retries_and_the_quarantine_come_from_the_project_file_per_platform_under_the_command_line(
    tmp_path: Path,
) -> None:
    from ci.planning.projectsettings import for_platform
    from ci.settings import projectfile
    from ci.settings.options import parse_args

    text = 'retries = 1\nquarantine = ["net.*"]\n[platform.s390x]\nretries = 3\nquarantine = ["slow.*"]\n'
    (tmp_path / "ciharness.toml").write_text(text)
    (tmp_path / "CMakeLists.txt").write_text("project(x C)\n")
    found = projectfile.parse(text, tmp_path / "ciharness.toml")
    opts = parse_args(["-p", "amd64,s390x"], project=found)
    amd64 = for_platform(opts, "amd64", tmp_path, default_step=True, suite="trixie")
    s390x = for_platform(opts, "s390x", tmp_path, default_step=True, suite="trixie")
    assert (amd64.retries, amd64.quarantine, amd64.env()["CI_RETRIES"]) == (1, ("net.*",), "1")
    assert (s390x.retries, s390x.quarantine, s390x.env()["CI_RETRIES"]) == (3, ("slow.*",), "3")
    pinned = parse_args(["-p", "s390x", "--retries", "0"], project=found)
    plain = for_platform(pinned, "s390x", tmp_path, default_step=True, suite="trixie")
    assert plain.retries == 0 and "CI_RETRIES" not in plain.env()


def test_a_flaky_quarantined_test_is_not_ready_to_leave(tmp_path: Path) -> None:
    (tmp_path / "junit").mkdir()
    cases = junit.merged([[case("net.dns", "failed", "timeout")], [case("net.dns", "passed")]])
    (tmp_path / "junit" / "ctest-amd64.xml").write_text(junit.to_junit("ctest", "amd64", cases))
    assert attempts.quarantine(tmp_path, "amd64", ("net.*",), time.time() - 10) == attempts.Quarantine()


def test_a_truncated_attempt_leaves_the_last_results(tmp_path: Path) -> None:
    started = time.time()
    write_ctest_attempt(tmp_path, 1, [case("a", "failed")])
    (tmp_path / attempts.ATTEMPTS / "2.tar").write_bytes(b"not a tar")
    assert not attempts.merge(tmp_path, "amd64", "cmake", started - 1)
