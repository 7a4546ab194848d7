"""Failed tests run again and the quarantine, against the real engine and QEMU: a CMake project
with a flaky test (it fails its first run in a container and passes its second), a quarantined
test that always fails and a quarantine entry that matches nothing passes `--retries 2` on amd64,
armv7 and s390x (tests under qemu-user), the flaky test in JUnit as Maven Surefire's
<flakyFailure>, the quarantined one a skip that says so, each said in a line of build.py's; without
reruns and one test at a time it fails naming the flaky test; and Meson, autotools and a plain
Makefile rerun their failed tests their own way."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.helpers import run_build_py
from tests.integration.projects import write
from tests.readme import README

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
OK_C = "int main(void) { return 0; }\n"
FAIL_C = '#include <stdio.h>\nint main(void) { puts("known bad: tracked in the quarantine"); return 1; }\n'

CMAKE = {
    "CMakeLists.txt": """\
cmake_minimum_required(VERSION 3.16)
project(shaky C)
enable_testing()
add_executable(flaky flaky.c)
add_executable(ok ok.c)
add_executable(known_bad known_bad.c)
add_test(NAME flaky COMMAND flaky)
add_test(NAME ok COMMAND ok)
add_test(NAME known_bad COMMAND known_bad)
""",
    "flaky.c": FLAKY_C,
    "ok.c": OK_C,
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
test('ok', executable('ok', 'ok.c'), suite: 'smoke')
""",
    "flaky.c": FLAKY_C,
    "ok.c": OK_C,
}

# The flaky test in a subdir: the first `make check` goes on past it (-k) to the top's own test,
# the rerun is that dir's `make recheck`.
AUTOTOOLS = {
    "configure.ac": "AC_INIT([shaky], [1.0])\nAM_INIT_AUTOMAKE([foreign])\nAC_PROG_CC\n"
    "AC_CONFIG_FILES([Makefile tests/Makefile])\nAC_OUTPUT\n",
    "Makefile.am": "SUBDIRS = tests .\ncheck_PROGRAMS = ok\nTESTS = ok\n",
    "tests/Makefile.am": "check_PROGRAMS = flaky\nTESTS = flaky\n",
    "tests/flaky.c": FLAKY_C,
    "ok.c": OK_C,
}

MAKE = {
    "Makefile": "all: flaky\ncheck: flaky\n\t./flaky\nflaky: flaky.c\n\t$(CC) -o $@ flaky.c\n",
    "flaky.c": FLAKY_C,
}


def cases(xml: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(xml).getroot().iter("testcase")}


@pytest.fixture(scope="module")
def cmake_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("shaky") / "src", CMAKE)


def test_a_flaky_test_passes_on_a_rerun_and_a_quarantined_failure_fails_nothing(
    cmake_project: Path, tmp_path: Path
) -> None:
    platforms = ("amd64", "armv7", "s390x")
    where = ("--source", str(cmake_project), "--build-dir", str(tmp_path / "b"))
    result = run_build_py("-p", ",".join(platforms), *where, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    for platform in platforms:
        found = cases(tmp_path / f"b.{platform}" / "junit" / f"ctest-{platform}.xml")  # DIR.<platform>
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


def test_without_reruns_one_at_a_time_the_flaky_test_fails_the_run(
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


@pytest.mark.parametrize(
    ("files", "tool"),
    [(MESON, "meson"), (AUTOTOOLS, "automake"), (MAKE, "make")],
    ids=["meson", "autotools", "make"],
)
def test_each_build_system_reruns_its_failed_tests_its_own_way(
    files: dict[str, str], tool: str, tmp_path: Path
) -> None:
    source = write(tmp_path / "src", files)
    build = tmp_path / "b"
    result = run_build_py("-p", "amd64", "--source", str(source), "--build-dir", str(build), "--retries", "1")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "amd64: flaky (failed, then passed when run again)" in result.stderr, result.stderr[-3000:]
    xml = build / "junit" / f"{tool}-amd64.xml"
    found = cases(xml)
    flaky = [c for c in found.values() if c.findall("flakyFailure")]
    assert len(flaky) == 1, xml.read_text()
    if tool != "make":  # the passing test ran too, and passed at its first run
        assert len(found) == 2 and all(c.find("failure") is None for c in found.values()), xml.read_text()
