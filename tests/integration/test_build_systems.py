"""Any C project as it is, against the real engine and QEMU: a Meson (tests/integration/projects.py),
an autotools (as in git, no configure) and a plain Make project written here, each built and
tested on amd64, armv7 and s390x with its results as JUnit XML; tests that share a file, a test
driver that empties QEMU_LD_PREFIX, a project with no tests, a missing tool, and --build-system."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from ci.planning.runspec import source_layers
from tests.integration.helpers import Result, elf_identity, run_build_py, snapshot, summary_rows
from tests.integration.projects import MESON, write

THREE = ("amd64", "armv7", "s390x")
ORDER = {"amd64": "little", "armv7": "little", "s390x": "big"}
WAY = {"amd64": "native", "armv7": "cross + qemu-user", "s390x": "cross + qemu-user"}


def run_on(platforms: tuple[str, ...], src: Path, build: Path, ccache: Path, *args: str) -> Result:
    """One build.py run of the default step over src on the platforms (build dirs build.<p>)."""
    return run_build_py(
        "-p", ",".join(platforms), "--source", str(src), "--build-dir", str(build),
        "--ccache-dir", str(ccache), "--progress", "plain", *args, timeout=1800,
    )  # fmt: skip


def junit_suite(build: Path, tool: str, platform: str) -> ET.Element:
    """The run's JUnit XML for the platform, labelled as ctest's is: suite `<tool>.<platform>`,
    every class `<platform>.<name>`."""
    suite = ET.parse(build / "junit" / f"{tool}-{platform}.xml").getroot()
    assert suite.get("name") == f"{tool}.{platform}"
    classes = [c.get("classname", "") for c in suite.iter("testcase")]
    assert classes and all(c.startswith(f"{platform}.") for c in classes), classes
    return suite


def counts(suite: ET.Element) -> tuple[int, int, int]:
    return int(suite.get("tests", "-1")), int(suite.get("failures", "-1")), int(suite.get("skipped", "-1"))


def outputs(suite: ET.Element) -> str:
    return "\n".join(out.text or "" for out in suite.iter("system-out"))


def cache_hits(cell: str) -> tuple[int, int]:
    """(hits, compilations) from the summary's ccache cell, e.g. '100% (3/3)'."""
    found = re.search(r"\((\d+)/(\d+)\)", cell)
    assert found, cell
    return int(found.group(1)), int(found.group(2))


@dataclass
class Runs:
    src: Path
    build: Path  # the build dirs are build.<platform>
    before: dict[str, tuple[int, int]]  # the source tree before any run
    first: Result
    again: Result | None = None  # a second run, empty build dirs, the same ccache


# --- Meson: the sample project (tests/integration/projects.py) on the three platforms ---------


@pytest.fixture(scope="module")
def meson_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The Meson project on the three platforms in one run, then again in empty build dirs."""
    base = tmp_path_factory.mktemp("meson")
    src = write(base / "src", MESON)
    before = snapshot(src)
    first = run_on(THREE, src, base / "b", base / "ccache")
    again = run_on(THREE, src, base / "again", base / "ccache")
    return Runs(src=src, build=base / "b", before=before, first=first, again=again)


MESON_GROUP = pytest.mark.xdist_group("bs-meson")  # one worker makes meson_runs and reads it


@pytest.mark.early  # two runs of three platforms (four cross builds, tests under QEMU)
@MESON_GROUP
def test_a_meson_project_builds_and_passes_its_tests_on_each_platform(meson_runs: Runs) -> None:
    first = meson_runs.first
    assert first.returncode == 0, first.stderr[-4000:]
    rows = summary_rows(first.stderr)
    for name in THREE:
        assert re.search(rf"{name}: running .*\(build system meson, from meson\.build\)", first.stderr)
        assert rows[name][1] == "ok" and rows[name][4] == "meson" and rows[name][5] == "3/0", rows[name]
        assert rows[name][3] == WAY[name], rows[name]  # how it ran on this x86-64 engine
        suite = junit_suite(Path(f"{meson_runs.build}.{name}"), "meson", name)
        assert counts(suite) == (3, 0, 0)
        assert {c.get("name") for c in suite.iter("testcase")} == {"byte order", "compiled order", "sum"}
    assert snapshot(meson_runs.src) == meson_runs.before


@pytest.mark.early
@MESON_GROUP
@pytest.mark.parametrize("name", THREE)
def test_meson_tests_run_as_the_targets_byte_order(meson_runs: Runs, name: str) -> None:
    build = Path(f"{meson_runs.build}.{name}")
    shown = outputs(junit_suite(build, "meson", name))
    order = ORDER[name]
    assert f"runs as {order}-endian, built for {order}-endian" in shown
    assert f"compiled {order}-endian, runs {order}-endian" in shown
    assert elf_identity(build / "order-check")[1] == order


@pytest.mark.early
@MESON_GROUP
def test_a_meson_rerun_in_empty_build_dirs_takes_its_compilations_from_ccache(meson_runs: Runs) -> None:
    again = meson_runs.again
    assert again is not None and again.returncode == 0, again and again.stderr[-4000:]
    rows = summary_rows(again.stderr)
    for name in THREE:
        hits, compiled = cache_hits(rows[name][6])
        assert hits > 0 and hits == compiled, rows[name]


# --- autotools as in git: configure.ac + Makefile.am, a libtool library, make check -------------

AUTOTOOLS = {
    "configure.ac": """\
AC_INIT([tally], [1.0])
AC_CONFIG_SRCDIR([src/tally.c])
AC_CONFIG_AUX_DIR([build-aux])
AC_CONFIG_MACRO_DIR([m4])
AM_INIT_AUTOMAKE([foreign subdir-objects])
AC_PROG_CC
AM_PROG_AR
LT_INIT
AC_C_BIGENDIAN([ORDER=big], [ORDER=little])
AC_SUBST([ORDER])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
""",
    "Makefile.am": """\
ACLOCAL_AMFLAGS = -I m4
lib_LTLIBRARIES = libtally.la
libtally_la_SOURCES = src/tally.c src/tally.h
libtally_la_LDFLAGS = -version-info 1:0:0
check_PROGRAMS = tests/test_tally tests/test_order
tests_test_tally_SOURCES = tests/test_tally.c
tests_test_tally_CPPFLAGS = -I$(srcdir)/src
tests_test_tally_LDADD = libtally.la
tests_test_order_SOURCES = tests/test_order.c
tests_test_order_CPPFLAGS = -I$(srcdir)/src -DEXPECTED_ORDER='"$(ORDER)"'
tests_test_order_LDADD = libtally.la
TESTS = $(check_PROGRAMS)
""",
    "src/tally.h": "int tally(const int *values, int n);\nconst char *tally_order(void);\n",
    "src/tally.c": """\
#include <stdint.h>
#include <string.h>
#include "tally.h"
int tally(const int *values, int n) {
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += values[i];
    return sum;
}
const char *tally_order(void) {
    uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first ? "little" : "big";
}
""",
    "tests/test_tally.c": """\
#include <stdio.h>
#include "tally.h"
int main(void) {
    int values[] = {1, 2, 3, 36};
    printf("tally = %d\\n", tally(values, 4));
    return tally(values, 4) != 42;
}
""",
    "tests/test_order.c": """\
#include <stdio.h>
#include <string.h>
#include "tally.h"
int main(void) {
    printf("configure said %s-endian, runs %s-endian\\n", EXPECTED_ORDER, tally_order());
    return strcmp(EXPECTED_ORDER, tally_order()) != 0;
}
""",
}


@pytest.fixture(scope="module")
def autotools_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("autotools")
    src = write(base / "src", AUTOTOOLS)
    before = snapshot(src)
    first = run_on(THREE, src, base / "b", base / "ccache")
    return Runs(src=src, build=base / "b", before=before, first=first)


AUTOTOOLS_GROUP = pytest.mark.xdist_group("bs-autotools")


@pytest.mark.early  # autoreconf, configure and make check three times
@AUTOTOOLS_GROUP
def test_an_autotools_project_from_git_builds_and_passes_make_check_on_each_platform(
    autotools_runs: Runs,
) -> None:
    first = autotools_runs.first
    assert first.returncode == 0, first.stderr[-4000:]
    rows = summary_rows(first.stderr)
    for name in THREE:
        assert re.search(rf"{name}: running .*\(build system autotools, from configure\.ac\)", first.stderr)
        assert rows[name][4] == "autotools" and rows[name][5] == "2/0", rows[name]
        build = Path(f"{autotools_runs.build}.{name}")
        suite = junit_suite(build, "automake", name)
        assert counts(suite) == (2, 0, 0)
        assert {c.get("name") for c in suite.iter("testcase")} == {"tests/test_tally", "tests/test_order"}
        assert f"configure said {ORDER[name]}-endian, runs {ORDER[name]}-endian" in outputs(suite)
        # The library is the target's, built by libtool; the tests ran through its wrapper scripts.
        library = next((build / ".libs").glob("libtally.so.1.*"))
        assert elf_identity(library)[1] == ORDER[name]


@pytest.mark.early
@AUTOTOOLS_GROUP
def test_autoreconf_writes_into_the_copy_on_write_view_not_the_users_tree(autotools_runs: Runs) -> None:
    assert snapshot(autotools_runs.src) == autotools_runs.before
    for name in THREE:
        changes, _ = source_layers(Path(f"{autotools_runs.build}.{name}"))
        assert (changes / "configure").is_file() and (changes / "Makefile.in").is_file()


# --- plain Make: a Makefile with a check target; its test driver empties QEMU_LD_PREFIX --------

MAKE = {
    "Makefile": """\
CFLAGS ?= -O2
all: greet
greet: greet.c
\t$(CC) $(CFLAGS) -o $@ greet.c
check: greet
\tsh ./run-tests.sh ./greet
clean:
\trm -f greet
.PHONY: all check clean
""",
    "greet.c": """\
#include <stdio.h>
int main(int argc, char **argv) {
    printf("hello, %s\\n", argc > 1 ? argv[1] : "nobody");
    return 0;
}
""",
    # Like real projects' drivers: QEMU_LD_PREFIX set for the architectures it knows, emptied for
    # the others; one case with no environment at all.
    "run-tests.sh": """\
set -e
case "$(uname -m)" in
    aarch64) QEMU_LD_PREFIX=/usr/aarch64-linux-gnu ;;
    *) QEMU_LD_PREFIX= ;;
esac
export QEMU_LD_PREFIX
"$1" world | grep -qx 'hello, world'
env -i "$1" again | grep -qx 'hello, again'
echo "run-tests.sh: 2 passed (QEMU_LD_PREFIX='$QEMU_LD_PREFIX', and env -i)"
""",
}


@pytest.fixture(scope="module")
def make_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("make")
    src = write(base / "src", MAKE)
    before = snapshot(src)
    first = run_on(THREE, src, base / "b", base / "ccache")
    return Runs(src=src, build=base / "b", before=before, first=first)


MAKE_GROUP = pytest.mark.xdist_group("bs-make")  # three quick builds: not early


@MAKE_GROUP
def test_a_makefile_project_runs_its_check_target_on_each_platform(make_runs: Runs) -> None:
    first = make_runs.first
    assert first.returncode == 0, first.stderr[-4000:]
    rows = summary_rows(first.stderr)
    for name in THREE:
        assert re.search(rf"{name}: running .*\(build system make, from Makefile\)", first.stderr)
        assert rows[name][4] == "make" and rows[name][5] == "1/0", rows[name]
        suite = junit_suite(Path(f"{make_runs.build}.{name}"), "make", name)
        assert counts(suite) == (1, 0, 0)
        assert [c.get("name") for c in suite.iter("testcase")] == ["make check"]


@MAKE_GROUP
def test_make_builds_in_the_copy_on_write_view_not_the_users_tree(make_runs: Runs) -> None:
    assert snapshot(make_runs.src) == make_runs.before
    for name in THREE:
        changes, _ = source_layers(Path(f"{make_runs.build}.{name}"))
        assert elf_identity(changes / "greet")[1] == ORDER[name]


@MAKE_GROUP
def test_a_test_driver_that_empties_qemu_ld_prefix_passes_on_s390x(make_runs: Runs) -> None:
    build = Path(f"{make_runs.build}.s390x")
    changes, _ = source_layers(build)
    assert elf_identity(changes / "greet") == (64, "big", 22)  # EM_S390: it ran under QEMU
    shown = outputs(junit_suite(build, "make", "s390x"))
    assert "run-tests.sh: 2 passed (QEMU_LD_PREFIX='', and env -i)" in shown


# --- smaller cases, each its own short run -----------------------------------------------------

SHARED_FILE = {
    "CMakeLists.txt": """\
cmake_minimum_required(VERSION 3.16)
project(shared C)
enable_testing()
add_executable(writer writer.c)
# Both tests write the same file in the build dir: fine one after the other, as plain ctest runs.
add_test(NAME first COMMAND writer first ${CMAKE_BINARY_DIR}/shared.txt)
add_test(NAME second COMMAND writer second ${CMAKE_BINARY_DIR}/shared.txt)
""",
    "writer.c": """\
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char got[64] = "";
    FILE *f = fopen(argv[2], "w");
    if (argc != 3 || !f) return 2;
    fprintf(f, "%s\\n", argv[1]);
    fclose(f);
    sleep(2);
    f = fopen(argv[2], "r");
    if (!f || !fgets(got, sizeof got, f)) return 2;
    fclose(f);
    got[strcspn(got, "\\n")] = 0;
    printf("%s found %s\\n", argv[1], got);
    return strcmp(got, argv[1]) != 0;
}
""",
}


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_tests_sharing_a_file_pass_under_qemu_and_are_told_they_race(tmp_path: Path) -> None:
    """Under QEMU the tests run several at a time by default, each failure then alone: the two
    tests race (each writes, sleeps 2 s and reads the other's word), the one that lost passes
    alone, the run passes and says they race. `--test-jobs 1` runs them as the project's own
    ctest does; `--test-jobs 2` is the race, and fails."""
    src = write(tmp_path / "src", SHARED_FILE)
    build, ccache = tmp_path / "b", tmp_path / "c"
    default = run_on(("armv7",), src, build, ccache)
    assert default.returncode == 0, default.stderr[-3000:]
    suite = junit_suite(build, "ctest", "armv7")
    assert counts(suite)[:2] == (2, 0)
    raced = [case for case in suite.iter("testcase") if case.find("flakyFailure") is not None]
    assert len(raced) == 1, ET.tostring(suite, encoding="unicode")[-3000:]
    assert "failed running with others, passed alone" in (raced[0].find("flakyFailure").get("message") or "")  # type: ignore[union-attr]
    assert (
        f"armv7: failed running with others, passed alone (they may race): {raced[0].get('name')}"
        in default.stderr
    )

    alone = run_on(("armv7",), src, build, ccache, "--test-jobs", "1")
    assert alone.returncode == 0 and "passed alone" not in alone.stderr, alone.stderr[-3000:]
    assert counts(junit_suite(build, "ctest", "armv7"))[:2] == (2, 0)

    raced_run = run_on(("armv7",), src, build, ccache, "--test-jobs", "2")
    assert raced_run.returncode != 0, raced_run.stderr[-3000:]
    assert counts(junit_suite(build, "ctest", "armv7"))[:2] == (2, 1)


NO_TESTS = {
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(quiet C)\n"
    "add_executable(quiet quiet.c)\n",
    "quiet.c": "int main(void) { return 0; }\n",
}


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_project_that_ran_no_test_is_not_green_unless_it_says_it_has_none(tmp_path: Path) -> None:
    src = write(tmp_path / "src", NO_TESTS)
    several = run_on(("amd64", "armv7"), src, tmp_path / "b", tmp_path / "c")
    assert several.returncode == 87, several.stderr[-3000:]
    rows = summary_rows(several.stderr)
    assert rows["amd64"][1] == rows["armv7"][1] == "no tests", rows

    one = run_on(("amd64",), src, tmp_path / "one", tmp_path / "c")
    assert one.returncode == 87, one.stderr[-3000:]
    assert re.search(r"^build\.py: .*amd64: built, but ran no test", one.stderr, re.MULTILINE), one.stderr

    declared = run_on(("amd64",), src, tmp_path / "one", tmp_path / "c", "--no-tests")
    assert declared.returncode == 0, declared.stderr[-3000:]


MISSING_TOOL = {
    "Makefile": "all:\n\ttrue\ncheck:\n\tprintf 'alpha\\nbeta\\n' | gperf > keywords.h\n",
}


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_test_calling_a_missing_tool_fails_with_a_hint_naming_its_package(tmp_path: Path) -> None:
    src = write(tmp_path / "src", MISSING_TOOL)
    result = run_on(("amd64",), src, tmp_path / "b", tmp_path / "c")
    assert result.returncode != 0, result.stderr[-3000:]
    assert "gperf: not found" in result.stdout + result.stderr
    assert "hint: gperf is not in the build image: Debian's package gperf provides it" in result.stderr
    assert counts(junit_suite(tmp_path / "b", "make", "amd64"))[:2] == (1, 1)


BOTH = {
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(no NONE)\n"
    'message(FATAL_ERROR "not CMake")\n',
    "Makefile": "all:\n\ttrue\ncheck:\n\techo made by make\n",
}


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_build_system_make_uses_the_makefile_beside_a_cmakelists(tmp_path: Path) -> None:
    src = write(tmp_path / "src", BOTH)
    result = run_on(("amd64",), src, tmp_path / "b", tmp_path / "c", "--build-system", "make")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(build system make, from --build-system)" in result.stderr
    assert "made by make" in outputs(junit_suite(tmp_path / "b", "make", "amd64"))
    assert not (tmp_path / "b" / "junit" / "ctest-amd64.xml").exists()
