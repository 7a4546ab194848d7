"""ci.hints: known failure causes recognised from real tools' output lines."""

from __future__ import annotations

import pytest

from ci.output import hints
from ci.output.hints import CAUSES, hints_for

# Real output, captured on this project's machine (see each test).
CMAKE_325 = [
    "-- ccache: on",
    "CMake Error at CMakeLists.txt:1 (cmake_minimum_required):",
    "  CMake 3.29 or higher is required.  You are running version 3.25.1",
    "",
    "",
    "-- Configuring incomplete, errors occurred!",
]


def only(status: int, lines: list[str]) -> str:
    hints = hints_for(status, lines)
    assert len(hints) == 1, hints
    return hints[0]


def test_newer_cmake_names_both_versions() -> None:
    # cmake 3.25.1 (Debian bookworm) on a project with cmake_minimum_required(VERSION 3.29).
    hint = only(1, CMAKE_325)
    assert "CMake 3.29 or newer" in hint
    assert "this image has CMake 3.25.1" in hint
    assert "trixie" in hint and "Dockerfile" in hint


def test_newer_cmake_with_patch_and_platform_prefix() -> None:
    line = "[s390x]   CMake 3.31.7 or higher is required.  You are running version 3.31.6"
    hint = only(1, [line])
    assert "CMake 3.31.7 or newer" in hint and "CMake 3.31.6:" in hint


@pytest.mark.parametrize(
    "line",
    [
        "touch: cannot touch '/work/src/generated.h': Read-only file system",
        "  file failed to open for writing (Read-only file system):",
    ],
)
def test_read_only_source(line: str) -> None:
    hint = only(1, ["==> configure /work/src for amd64", line])
    assert hint.startswith("a write failed on a read-only file system: if it was the source tree")
    assert "--writable-source" in hint and "--source-mode copy-on-write" in hint


@pytest.mark.parametrize(
    "line",
    [
        "bash: ./badelf: cannot execute binary file: Exec format error",
        "sh: 1: ./badelf: Exec format error",
        "OSError: [Errno 8] Exec format error: './badelf'",
        "exec /work/build/prog: exec format error",
    ],
)
def test_exec_format_error(line: str) -> None:
    assert "sudo scripts/provision.sh" in only(126, [line])


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (1, "g++: fatal error: Killed signal terminated program cc1plus"),
        (1, "c++: fatal error: Killed signal terminated program cc1plus"),
        (1, "collect2: fatal error: ld terminated with signal 9 [Killed]"),
        (1, "virtual memory exhausted: Cannot allocate memory"),
        (1, "gcc: fatal error: Killed signal terminated program cc1"),
        (137, "ninja: build stopped: subcommand failed."),
    ],
)
def test_out_of_memory(status: int, line: str) -> None:
    assert "--build-jobs" in only(status, ["[2/9] Building CXX object big.cc.o", line])


def test_disk_full() -> None:
    hint = only(1, ["dd: error writing '/dev/full': No space left on device", "1+0 records in"])
    assert "./build.py --prune" in hint


@pytest.mark.parametrize(
    "line",
    [
        "qemu: uncaught target signal 11 (Segmentation fault) - core dumped",
        "qemu: unhandled CPU exception 0x10 - aborting",
        "QEMU internal SIGSEGV {code=MAPERR, addr=0x20}",
        "qemu: fatal: Trying to execute code outside RAM or ROM at 0x00000000",
    ],
)
def test_qemu_crash(line: str) -> None:
    hint = only(139, ["1/3 Test #1: threads ...***Exception: SegFault  0.31 sec", line])
    assert "no_emulation" in hint and "What QEMU gets wrong" in hint


def test_success_has_no_hints() -> None:
    assert hints_for(0, CMAKE_325) == []


def test_unknown_failure_has_no_hints() -> None:
    assert hints_for(2, ["error: something else", "ninja: build stopped: subcommand failed."]) == []


def test_one_hint_per_cause_in_table_order() -> None:
    lines = [
        "dd: error writing 'a': No space left on device",
        "dd: error writing 'b': No space left on device",
        "g++: fatal error: Killed signal terminated program cc1plus",
        *CMAKE_325,
    ]
    hints = hints_for(137, lines)  # 137 and the Killed line are one cause
    assert len(hints) == 3
    assert hints[0].startswith("the project needs CMake 3.29")
    assert "--build-jobs" in hints[1] and "--prune" in hints[2]


def test_cause_names_are_unique() -> None:
    names = [c.name for c in CAUSES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("line", "cmd", "package"),
    [
        ("sh: 1: xxd: not found", "xxd", "xxd"),
        ("bash: line 1: bison: command not found", "bison", "bison"),
        ("/work/src/tests/run.sh: line 3: gperf: command not found", "gperf", "gperf"),
        ("make: pkg-config: No such file or directory", "pkg-config", "pkgconf"),
        ("make[2]: autoreconf: No such file or directory", "autoreconf", "autoconf"),
    ],
)
def test_a_missing_command_names_the_debian_package_and_how_to_add_it(
    line: str, cmd: str, package: str
) -> None:
    (hint,) = hints.hints_for(127, ["building", line, "make: *** [Makefile:3: all] Error 127"])
    assert hint.startswith(f"{cmd} is not in the build image")
    assert f"package {package} provides it" in hint
    assert f'build-packages = ["{package}"]' in hint and "ciharness.toml" in hint
    assert "Dockerfile" not in hint


def test_an_unknown_missing_command_says_how_to_find_its_package() -> None:
    (hint,) = hints.hints_for(127, ["sh: 1: frobnicate: not found"])
    assert "apt-file search bin/frobnicate" in hint


def test_ordinary_lines_with_not_found_are_no_missing_command() -> None:
    assert hints.hints_for(1, ["error: file not found"]) == []
    # pkg-config's words: a missing library (tests/unit/test_library_hints.py), not a command.
    (hint,) = hints.hints_for(1, ["Package zlib was not found in the pkg-config search path"])
    assert "is not in the build image" not in hint and "zlib1g-dev" in hint


# Real output of a missing program, each build system's way, captured in the amd64 build image
# (Meson 1.7, autoconf 2.72, CMake 3.31).
MESON_PROJECT_ERROR = [
    "Host machine cpu: x86_64",
    "Program help2man found: NO",
    "",
    "meson.build:4:2: ERROR: Problem encountered: help2man is required to build the manual pages",
    "",
    "A full log can be found at /work/build/meson-logs/meson-log.txt",
]
MESON_REQUIRED = [
    "Program help2man found: NO",
    "",
    "meson.build:2:0: ERROR: Program 'help2man' not found or not executable",
]
CONFIGURE_ERROR = [
    "checking for help2man... no",
    "configure: error: help2man is required to build the manual pages",
]
CMAKE_FIND_PROGRAM = [
    "CMake Error at CMakeLists.txt:3 (find_program):",
    "  Could not find HELP2MAN using the following names: help2man",
    "",
    "",
    "-- Configuring incomplete, errors occurred!",
]


@pytest.mark.parametrize(
    "lines", [MESON_PROJECT_ERROR, MESON_REQUIRED, CONFIGURE_ERROR, CMAKE_FIND_PROGRAM],
    ids=["meson-error", "meson-required", "configure", "cmake"],
)  # fmt: skip
def test_a_missing_program_names_it_its_package_and_build_packages(lines: list[str]) -> None:
    hint = only(1, [f"[amd64] {line}" for line in lines])
    assert hint.startswith("the build looked for the program help2man and the image has none")
    assert "Debian's package help2man provides it" in hint
    assert 'build-packages = ["help2man"]' in hint and "ciharness.toml" in hint


def test_an_optional_program_the_build_went_on_without_is_no_cause() -> None:
    lines = ["Program help2man found: NO", "", "src/a.c:3:1: error: expected ';'", "ninja: build stopped"]
    assert hints_for(1, lines) == []
    lines = [
        "checking for help2man... no",
        "checking for zlib.h... no",
        "configure: error: zlib.h is required",
    ]
    assert all("help2man" not in hint for hint in hints_for(1, lines))


def test_an_unknown_missing_program_says_how_to_find_its_package() -> None:
    hint = only(1, ["checking for frobgen... no", "configure: error: cannot find frobgen"])
    assert "frobgen" in hint and "apt-file search bin/frobgen" in hint and "build-packages" in hint


AUTORECONF_LT = [
    "libtoolize: Consider adding '-I m4' to ACLOCAL_AMFLAGS in Makefile.am.",
    "configure.ac:5: error: possibly undefined macro: LT_SYS_SYMBOL_USCORE",
    "      If this token and others are legitimate, please use m4_pattern_allow.",
    "      See the Autoconf documentation.",
    "autoreconf: error: /usr/bin/autoconf failed with exit status: 1",
]


@pytest.mark.parametrize(
    ("macro", "package"),
    [
        ("LT_SYS_SYMBOL_USCORE", "libltdl-dev"), ("LTDL_INIT", "libltdl-dev"), ("LT_INIT", "libtool"),
        ("PKG_CHECK_MODULES", "pkgconf"), ("AX_CODE_COVERAGE", "autoconf-archive"),
        ("AM_GNU_GETTEXT", "gettext"), ("AM_GNU_GETTEXT_VERSION", "gettext"),
        ("GTK_DOC_CHECK", "gtk-doc-tools"),
    ],
)  # fmt: skip
def test_an_undefined_autoconf_macro_names_the_package_of_its_m4(macro: str, package: str) -> None:
    lines = [line.replace("LT_SYS_SYMBOL_USCORE", macro) for line in AUTORECONF_LT]
    hint = only(1, lines)
    assert hint.startswith(f"configure.ac uses the autoconf macro {macro}, which no .m4 file")
    assert f"Debian's package {package} ships the .m4 file" in hint
    assert f'build-packages = ["{package}"]' in hint


def test_a_macro_left_unexpanded_in_configure_is_found_too() -> None:
    lines = [
        "./configure: line 4567: syntax error near unexpected token `GLIB,'",
        "./configure: line 4567: `PKG_CHECK_MODULES(GLIB, glib-2.0)'",
    ]
    assert "Debian's package pkgconf ships" in only(2, lines)


def test_an_unknown_macro_says_how_to_find_it() -> None:
    hint = only(1, ["configure.ac:9: error: possibly undefined macro: FROB_INIT"])
    assert "FROB_INIT" in hint and "usr/share/aclocal/" in hint and "m4/" in hint
