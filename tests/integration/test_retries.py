"""Failed tests run again, the quarantine and coverage, against the real engine and QEMU: a CMake
project with a flaky test (it fails its first run in a container and passes its second), a
quarantined test that always fails, a quarantine entry that matches nothing and a library its tests
cover half of passes `--coverage` with `retries = 2` on amd64, armv7 and s390x (tests under
qemu-user), the flaky test in JUnit as Maven Surefire's <flakyFailure>, the quarantined one a skip
that says so, each said in a line of build.py's, each platform's Cobertura XML and HTML in its
build dir and the three merged; without reruns and one test at a time it fails naming the flaky
test; and Meson (with clang), autotools and a plain Makefile rerun their failed tests their own
way and measure their coverage."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.helpers import run_build_py, summary_rows
from tests.integration.projects import write
from tests.readme import README, block

pytestmark = pytest.mark.usefixtures("amd64_image", "no_leftovers")

# Fails the first time it runs in a container (it leaves a mark in the container's /tmp), passes
# after; a C program, so it runs under QEMU where the platform is foreign.
FLAKY_C = """\
#include <stdio.h>
#include <unistd.h>
int main(void) {
    const char *mark = "/tmp/ciharness-flaky-seen";
    if (access(mark, F_OK) == 0) { puts("second run: passing"); return 0; }
    FILE *f = fopen(mark, "w");
    if (f) fclose(f);
    puts("first run: failing, as a race would");
    return 1;
}
"""
# A library the tests cover half of: half_used runs, half_unused never does.
HALF_C = """\
int half_used(int x) {
    return x + 1;
}

int half_unused(int x) {
    if (x > 10)
        return x * 2;
    return x - 1;
}
"""
OK_C = "int half_used(int x);\nint main(void) { return half_used(-1); }\n"
FAIL_C = '#include <stdio.h>\nint main(void) { puts("known bad: tracked in the quarantine"); return 1; }\n'

CMAKE = {
    "CMakeLists.txt": """\
cmake_minimum_required(VERSION 3.16)
project(shaky C)
enable_testing()
add_library(half STATIC half.c)
add_executable(flaky flaky.c)
add_executable(ok ok.c)
target_link_libraries(ok half)
add_executable(known_bad known_bad.c)
add_test(NAME flaky COMMAND flaky)
add_test(NAME ok COMMAND ok)
add_test(NAME known_bad COMMAND known_bad)
""",
    "flaky.c": FLAKY_C,
    "ok.c": OK_C,
    "half.c": HALF_C,
    "known_bad.c": FAIL_C,
    # docs/build-systems.md's project file (retries 2, a quarantine with an entry that matches nothing)
    "ciharness.toml": README.split("<!-- retries-file -->", 1)[1].split("```toml", 1)[1].split("```", 1)[0],
}

# Two suites: meson's testlog.json then names a test `shaky:unit / flaky`, which `meson test`
# takes as `shaky:flaky`.
MESON = {
    "meson.build": """\
project('shaky', 'c')
test('flaky', executable('flaky', 'flaky.c'), suite: 'unit')
test('ok', executable('ok', 'ok.c', 'half.c'), suite: 'smoke')
""",
    "flaky.c": FLAKY_C,
    "ok.c": OK_C,
    "half.c": HALF_C,
}

# The flaky test in a subdir: the first `make check` goes on past it (-k) to the top's own test,
# the rerun is that dir's `make recheck`.
AUTOTOOLS = {
    "configure.ac": "AC_INIT([shaky], [1.0])\nAM_INIT_AUTOMAKE([foreign])\nAC_PROG_CC\n"
    "AC_CONFIG_FILES([Makefile tests/Makefile])\nAC_OUTPUT\n",
    "Makefile.am": "SUBDIRS = tests .\ncheck_PROGRAMS = ok\nok_SOURCES = ok.c half.c\nTESTS = ok\n",
    "tests/Makefile.am": "check_PROGRAMS = flaky\nTESTS = flaky\n",
    "tests/flaky.c": FLAKY_C,
    "ok.c": OK_C,
    "half.c": HALF_C,
}

MAKE = {
    "Makefile": "all: flaky ok\ncheck: flaky ok\n\t./ok\n\t./flaky\nflaky: flaky.c\n\t$(CC) -o $@ flaky.c\n"
    "ok: ok.c half.c\n\t$(CC) -o $@ ok.c half.c\n",
    "flaky.c": FLAKY_C,
    "ok.c": OK_C,
    "half.c": HALF_C,
}


def cases(xml: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(xml).getroot().iter("testcase")}


@pytest.fixture(scope="module")
def cmake_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("shaky") / "src", CMAKE)


def half_rate(cobertura: Path) -> float:
    """The line rate of half.c in a Cobertura XML (its paths relative to the project's root)."""
    root = ET.parse(cobertura).getroot()
    assert [source.text for source in root.iter("source")] == ["."]
    (half,) = [c for c in root.iter("class") if c.get("filename", "").endswith("half.c")]
    return float(half.get("line-rate", "-1"))


def test_a_flaky_test_passes_on_a_rerun_and_a_quarantined_failure_fails_nothing_with_coverage(
    cmake_project: Path, tmp_path: Path
) -> None:
    """docs/toolchains.md's coverage commands, in order, on the project (retries 2 from its file):
    amd64 alone, then three platforms, two with their tests under QEMU, and their merge."""
    commands = block("coverage")
    assert len(commands) == 2 and all(c.startswith("./build.py ") for c in commands)
    single = run_build_py(*shlex.split(commands[0])[1:], "--source", str(cmake_project), cwd=tmp_path)
    assert single.returncode == 0, single.stderr[-4000:]
    html = tmp_path / "build.amd64.coverage" / "coverage" / "index.html"
    assert re.search(rf"amd64: ok; .*; coverage lines [\d.]+% \(\d+/\d+\).*: {html}", single.stderr)
    platforms = ("amd64", "armv7", "s390x")
    result = run_build_py(
        *shlex.split(commands[1])[1:], "--source", str(cmake_project), cwd=tmp_path, timeout=1800
    )
    assert result.returncode == 0, result.stderr[-4000:]
    rows = summary_rows(result.stderr)
    for platform in platforms:
        build = tmp_path / f"build.{platform}.coverage"
        found = cases(build / "junit" / f"ctest-{platform}.xml")
        flaky = found["flaky"]
        assert flaky.find("failure") is None, platform
        reruns = flaky.findall("flakyFailure")
        assert len(reruns) == 1 and "first run: failing" in (reruns[0].findtext("system-out") or ""), platform
        skipped = found["known_bad"].find("skipped")
        assert skipped is not None and skipped.get("message", "").startswith("quarantined"), platform
        assert found["ok"].find("failure") is None and not found["ok"].findall("flakyFailure")
        said = result.stderr
        # Under QEMU the tests ran two at a time, so the rerun that passed it was the one alone
        told = "flaky (failed, then passed when run again)"
        if platform != "amd64":
            told = "failed running with others, passed alone (they may race)"
        assert f"{platform}: {told}: flaky" in said, said[-3000:]
        assert f"{platform}: quarantined, failed (not failing the run): known_bad" in said
        assert f"{platform}: quarantine entry 'gone_test' matches no test" in said
        assert 0 < half_rate(build / "coverage" / "cobertura.xml") < 1, platform
        assert (build / "coverage" / "index.html").is_file() and rows[platform][-1].endswith("branches")
    merged = tmp_path / "build.coverage"
    assert 0 < half_rate(merged / "cobertura.xml") < 1 and (merged / "index.html").is_file()
    assert "coverage of 3 jobs together: lines " in result.stderr
    assert "Coverage: amd64, armv7, s390x" in (merged / "index.html").read_text()
    report = (tmp_path / "build-report.html").read_text()
    assert 'id="merged-coverage"' in report and 'href="build.coverage/index.html"' in report


def test_without_reruns_one_at_a_time_the_flaky_test_fails_the_run_and_a_plain_build_dir_has_no_coverage(
    cmake_project: Path, tmp_path: Path
) -> None:
    result = run_build_py(
        "-p", "amd64", "--source", str(cmake_project), "--build-dir", str(tmp_path / "b"),
        "--retries", "0", "--test-jobs", "1",
    )  # fmt: skip
    assert result.returncode == 8, result.stderr[-3000:]
    assert "failed tests: flaky" in result.stderr, result.stderr[-3000:]
    assert "known_bad" not in result.stderr.split("failed tests:")[-1].splitlines()[0]  # quarantined
    assert "flakyFailure" not in (tmp_path / "b" / "junit" / "ctest-amd64.xml").read_text()
    # The same build dir asked for coverage: CMake keeps the flags it was first configured with,
    # nothing is instrumented, and a run whose tests passed fails for the report it could not make.
    again = run_build_py(
        "-p", "amd64", "--source", str(cmake_project), "--build-dir", str(tmp_path / "b"), "--coverage",
    )  # fmt: skip
    assert again.returncode == 103, again.stderr[-3000:]
    assert "tested, but made no coverage report" in again.stderr
    assert "no .gcno file: nothing was built with --coverage" in (tmp_path / "b" / "build.log").read_text()


# Each build system's probe, with coverage: Meson's with clang (llvm-cov gcov), the others with gcc.
@pytest.mark.parametrize(
    ("files", "tool", "compiler"),
    [(MESON, "meson", "clang"), (AUTOTOOLS, "automake", "gcc"), (MAKE, "make", "gcc")],
    ids=["meson", "autotools", "make"],
)
def test_each_build_system_reruns_its_failed_tests_its_own_way_and_measures_coverage(
    files: dict[str, str], tool: str, compiler: str, tmp_path: Path
) -> None:
    source = write(tmp_path / "src", files)
    build = tmp_path / "b"
    where = ("--source", str(source), "--build-dir", str(build))
    result = run_build_py("-p", "amd64", *where, "--retries", "1", "--coverage", "--compiler", compiler)
    assert result.returncode == 0, result.stderr[-4000:]
    assert 0 < half_rate(build / "coverage" / "cobertura.xml") < 1, result.stderr[-3000:]
    gcov = r"/usr/lib/llvm-19/bin/llvm-cov gcov" if compiler == "clang" else "x86_64-linux-gnu-gcov"
    assert f"coverage: gcovr with {gcov}\n" in (build / "build.log").read_text()
    assert "amd64: flaky (failed, then passed when run again)" in result.stderr, result.stderr[-3000:]
    xml = build / "junit" / f"{tool}-amd64.xml"
    found = cases(xml)
    flaky = [c for c in found.values() if c.findall("flakyFailure")]
    assert len(flaky) == 1, xml.read_text()
    if tool != "make":  # the passing test ran too, and passed at its first run
        assert len(found) == 2 and all(c.find("failure") is None for c in found.values()), xml.read_text()
