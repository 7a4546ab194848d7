"""Compilers, sanitizers and build types: parsed, checked (each bad value its own exit code),
what the container and the project's image are told, where a sanitizer works (the docs' table is
this table), and what a sanitizer's report says, read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ci.errors import (
    BuildTypeError,
    ExitCode,
    SanitizersError,
    SanitizerUnsupportedError,
    UnknownCompilerError,
)
from ci.output import findings
from ci.planning import toolchains, ways
from ci.planning.toolchains import Toolchain, check_where, parse_build_type, parse_compiler, parse_sanitizers

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("gcc", ("gcc", None)),
        ("gcc-14", ("gcc", None)),  # trixie's own gcc: nothing to install
        ("gcc-13", ("gcc", 13)),
        ("clang", ("clang", 19)),  # trixie's default clang, named
        ("Clang-17", ("clang", 17)),
    ],
)
def test_compilers_resolve_against_the_images_suite(name: str, parsed: tuple[str, int | None]) -> None:
    assert parse_compiler(name, "trixie") == parsed


def test_a_version_the_suite_lacks_names_those_it_has() -> None:
    with pytest.raises(UnknownCompilerError) as caught:
        parse_compiler("gcc-9", "trixie")
    assert "gcc-9 is not in Debian trixie" in caught.value.message
    assert caught.value.hint == "Debian trixie has gcc-12, gcc-13, gcc-14"
    assert caught.value.code == ExitCode.UNKNOWN_COMPILER
    assert int(ExitCode.UNKNOWN_COMPILER) == 94


@pytest.mark.parametrize("name", ["icc", "gcc13", "clang-", "msvc-19", ""])
def test_an_unknown_compiler_is_refused(name: str) -> None:
    with pytest.raises(UnknownCompilerError):
        parse_compiler(name, "trixie")


def test_an_unknown_suite_takes_any_version_and_leaves_clang_to_its_default() -> None:
    assert parse_compiler("gcc-9", "") == ("gcc", 9)
    assert parse_compiler("clang", "") == ("clang", None)


def test_sanitizers_are_split_ordered_and_checked() -> None:
    assert parse_sanitizers(["undefined,address"], "gcc") == ("address", "undefined")
    assert parse_sanitizers(["leak", "undefined"], "gcc") == ("undefined", "leak")
    assert parse_sanitizers(["memory"], "clang") == ("memory",)
    with pytest.raises(SanitizersError, match="unknown sanitizer 'adress'") as caught:
        parse_sanitizers(["adress"], "gcc")
    assert caught.value.code == ExitCode.BAD_SANITIZERS
    assert int(ExitCode.BAD_SANITIZERS) == 95
    with pytest.raises(SanitizersError, match="clang's only"):
        parse_sanitizers(["memory"], "gcc")
    with pytest.raises(SanitizersError, match="address and thread cannot be in one build"):
        parse_sanitizers(["thread,address"], "clang")


def test_build_types_are_the_build_systems_own_words() -> None:
    assert parse_build_type("debug", "cmake") == "Debug"
    assert parse_build_type("RELWITHDEBINFO", "cmake") == "RelWithDebInfo"
    assert parse_build_type("debugoptimized", "meson") == "debugoptimized"
    assert parse_build_type("Release", "autotools") == "release"
    assert parse_build_type("", "cmake") == ""
    assert parse_build_type("Anything", None) == "Anything"  # the run's own command builds
    with pytest.raises(BuildTypeError, match="meson has no build type 'RelWithDebInfo'") as caught:
        parse_build_type("RelWithDebInfo", "meson")
    assert caught.value.code == ExitCode.BAD_BUILD_TYPE
    assert int(ExitCode.BAD_BUILD_TYPE) == 96
    assert "debugoptimized" in caught.value.hint


def test_what_the_container_and_the_image_are_told() -> None:
    plain = Toolchain()
    assert plain.default and plain.env() == {} and plain.image_lines() == () and plain.label == ""
    clang = Toolchain(family="clang", version=19, sanitize=("address", "undefined"), build_type="Debug")
    assert clang.env() == {
        "CI_COMPILER": "clang-19",
        "CI_SANITIZE": "address,undefined",
        "CI_BUILD_TYPE": "Debug",
    }
    assert clang.image_lines() == ("compiler clang 19", "sanitize address,undefined")
    assert clang.label == "clang-19.address+undefined.debug"
    assert clang.describe() == "clang-19, sanitizers address+undefined, build type Debug"
    gcc13 = Toolchain(version=13, sanitize=("address",))
    assert gcc13.image_lines() == ("compiler gcc 13",)  # gcc's runtimes come with Debian's compilers
    assert Toolchain(family="clang").image_lines() == ("compiler clang",)


def test_a_sanitizer_that_does_not_work_where_the_tests_run_is_refused() -> None:
    check_where(Toolchain(sanitize=("address",)), "amd64", ways.NATIVE, "linux/amd64")
    check_where(Toolchain(sanitize=("undefined",)), "arm64", ways.CROSS_QEMU, "linux/arm64")
    check_where(Toolchain(sanitize=("address", "undefined")), "armv7", ways.CROSS_QEMU, "linux/arm/v7")
    with pytest.raises(SanitizerUnsupportedError, match="thread sanitizer does not work on i386"):
        check_where(Toolchain(sanitize=("thread",)), "i386", ways.CROSS, "linux/386")
    with pytest.raises(SanitizerUnsupportedError) as caught:
        check_where(Toolchain(sanitize=("undefined", "address")), "arm64", ways.CROSS_QEMU, "linux/arm64")
    assert caught.value.code == ExitCode.SANITIZER_UNSUPPORTED
    assert int(ExitCode.SANITIZER_UNSUPPORTED) == 97
    assert "address sanitizer does not work on arm64" in caught.value.message
    assert "--docker-host" in caught.value.hint and "undefined" in caught.value.hint


def test_the_docs_table_is_the_harness_table() -> None:
    text = (DOCS / "toolchains.md").read_text(encoding="utf-8")
    table = text.split("<!-- sanitizer-table -->", 1)[1].split("<!-- /sanitizer-table -->", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.strip().splitlines()]
    header, body = rows[0], rows[2:]
    assert header[1:] == list(toolchains.SANITIZERS)
    documented = {
        row[0]: {s for s, cell in zip(header[1:], row[1:], strict=True) if cell == "yes"} for row in body
    }
    assert documented == {way: set(works) for way, works in toolchains.WORKS.items()}


# What the sanitizers said here (tests/integration/test_sanitizers.py plants these bugs).
ASAN = """==56==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x5020 at pc 0x55a3 bp 0x7ffe
READ of size 4 at 0x502000000020 thread T0
    #0 0x55a3c105d30e in heap_oob /work/src/planted.c:6
    #1 0x55a3c105d0b4 in main /work/src/heap_test.c:3
    #2 0x7f4dec6deca7  (/lib/x86_64-linux-gnu/libc.so.6+0x29ca7) (BuildId: 93f7)
"""
UBSAN = """/work/src/planted.c:10:31: runtime error: signed integer overflow: 2147483647 + 1 cannot be \
represented in type 'int'
    #0 0x558a17bdd3ff in add_one /work/src/planted.c:10
    #1 0x558a17bdd148 in main /work/src/signed_test.c:5
"""
TSAN = """==================
WARNING: ThreadSanitizer: data race (pid=53)
  Read of size 4 at 0x5612 by thread T2:
    #0 bump /work/src/race_test.c:4 (race_test+0x12e9) (BuildId: 1a2b)
  Previous write of size 4 at 0x5612 by thread T1:
    #0 bump /work/src/race_test.c:4 (race_test+0x1301) (BuildId: 1a2b)
"""
LSAN = """==56==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 40 byte(s) in 1 object(s) allocated from:
    #0 0x7f0596f7ec25 in malloc ../../../../src/libsanitizer/lsan/lsan_interceptors.cpp:75
    #1 0x5613cdc5106d in keep /work/src/leak_test.c:4
    #2 0x5613cdc5106d in main /work/src/leak_test.c:5
"""
MSAN = """==89==WARNING: MemorySanitizer: use-of-uninitialized-value
    #0 0x55983dbffe2b in count_set /work/src/uninit_test.c:3:137
    #1 0x55983dbffd8a in main /work/src/uninit_test.c:4:101
"""


@pytest.mark.parametrize(
    ("output", "said"),
    [
        (ASAN, "AddressSanitizer: heap-buffer-overflow in heap_oob planted.c:6, main heap_test.c:3"),
        (
            UBSAN,
            "UndefinedBehaviorSanitizer: signed integer overflow"
            " in add_one planted.c:10, main signed_test.c:5",
        ),
        (TSAN, "ThreadSanitizer: data race in bump race_test.c:4, bump race_test.c:4"),
        (LSAN, "LeakSanitizer: detected memory leaks in keep leak_test.c:4, main leak_test.c:5"),
        (
            MSAN,
            "MemorySanitizer: use-of-uninitialized-value in count_set uninit_test.c:3, main uninit_test.c:4",
        ),
        (
            "/src/a.c:3:7: runtime error: load of misaligned address\n",
            "UndefinedBehaviorSanitizer: load of misaligned address in a.c:3",
        ),
        (
            ASAN.replace("/work/src/", "../src/"),
            "AddressSanitizer: heap-buffer-overflow in heap_oob planted.c:6, main heap_test.c:3",
        ),
        ("FAIL: expected 3, got 4\n", ""),
    ],
)
def test_a_sanitizers_report_is_read_as_its_kind_and_first_project_frames(output: str, said: str) -> None:
    assert findings.finding("test output before\n" + output) == said


def test_the_junit_failure_message_becomes_the_finding() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(
        '<testsuite><testcase name="heap"><failure message="Failed"/><system-out>'
        + ASAN.replace("&", "&amp;").replace("<", "&lt;")
        + '</system-out></testcase><testcase name="ok"/></testsuite>'
    )
    assert findings.annotate(root)
    failure = root.find("testcase/failure")
    assert failure is not None
    assert re.match(r"AddressSanitizer: heap-buffer-overflow in heap_oob", failure.get("message", ""))
    assert not findings.annotate(root)  # already said


def test_a_sanitizer_this_kernels_aslr_entropy_breaks_is_refused_with_the_way_out() -> None:
    thread = Toolchain(sanitize=("thread",))
    toolchains.check_aslr(thread, "amd64", 28)
    toolchains.check_aslr(thread, "amd64", None)  # not known: not refused
    toolchains.check_aslr(Toolchain(sanitize=("address", "undefined")), "amd64", 32)
    with pytest.raises(SanitizerUnsupportedError) as caught:
        toolchains.check_aslr(Toolchain(family="clang", version=19, sanitize=("memory",)), "amd64", 32)
    assert "vm.mmap_rnd_bits 32" in caught.value.message and "memory sanitizer" in caught.value.message
    assert caught.value.hint == "lower it first: sudo sysctl vm.mmap_rnd_bits=28"
