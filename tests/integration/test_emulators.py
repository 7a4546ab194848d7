"""The build environment real cross-aware projects expect, against the real engine and QEMU:
qemu-<arch> commands by their conventional names, CMAKE_CROSSCOMPILING_EMULATOR for try_run and
ctest, and a CMake new enough for cmake_minimum_required(VERSION 3.29)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ci.output.hints import hints_for
from tests.integration.helpers import run_build_py

# platform -> the byte order its try_run must detect.
BYTE_ORDER = {
    "amd64": "little",
    "i386": "little",
    "armv7": "little",
    "arm64": "little",
    "s390x": "big",
    "ppc64le": "little",
    "riscv64": "little",
}
CROSS = [name for name in BYTE_ORDER if name != "amd64"]

# A project written the way cross-aware projects are: it runs its test binary through
# qemu-<arch> by name when cross-compiling, with QEMU options; try_run needs the emulator.
CMAKELISTS = r"""
cmake_minimum_required(VERSION 3.29)
project(emulated C)

try_run(order_run order_compiled SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/order.c
        COMPILE_OUTPUT_VARIABLE order_log RUN_OUTPUT_VARIABLE byte_order)
if(NOT order_compiled OR NOT order_run EQUAL 0)
  message(FATAL_ERROR "try_run of order.c failed (${order_run}): ${order_log}")
endif()
string(STRIP "${byte_order}" byte_order)
message(STATUS "byte order: ${byte_order}")
file(WRITE ${CMAKE_BINARY_DIR}/byte-order.txt "${byte_order}\n")

enable_testing()
add_executable(prog prog.c)
add_test(NAME direct COMMAND prog direct)
set_tests_properties(direct PROPERTIES PASS_REGULAR_EXPRESSION "argv0=[^ ]*prog greeting=none arg=direct")
if(CMAKE_CROSSCOMPILING)
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" qemu_arch)
  if(qemu_arch MATCHES "^i[3-6]86$")
    set(qemu_arch i386)
  elseif(qemu_arch MATCHES "^arm")
    set(qemu_arch arm)
  endif()
  list(GET CMAKE_FIND_ROOT_PATH 0 target_root)
  add_test(NAME viaqemu
           COMMAND qemu-${qemu_arch} -L ${target_root} -E PROG_GREETING=hello -0 renamed
                   $<TARGET_FILE:prog> viaqemu)
  set_tests_properties(viaqemu PROPERTIES PASS_REGULAR_EXPRESSION "argv0=renamed greeting=hello arg=viaqemu")
  add_test(NAME viaqemu_static COMMAND qemu-${qemu_arch}-static $<TARGET_FILE:prog> static)
  set_tests_properties(viaqemu_static PROPERTIES PASS_REGULAR_EXPRESSION "greeting=none arg=static")
  add_test(NAME refuses_host_binary COMMAND qemu-${qemu_arch} /bin/true)
  set_tests_properties(refuses_host_binary PROPERTIES
                       PASS_REGULAR_EXPRESSION "Invalid ELF image for this architecture")
endif()
"""

ORDER_C = r"""
#include <stdio.h>
#include <stdint.h>
int main(void) {
    const uint32_t word = 0x01020304u;
    puts(*(const unsigned char *)&word == 1 ? "big" : "little");
    return 0;
}
"""

PROG_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    const char *greeting = getenv("PROG_GREETING");
    printf("argv0=%s greeting=%s arg=%s\n", argv[0], greeting ? greeting : "none", argc > 1 ? argv[1] : "");
    return 0;
}
"""


def write_project(root: Path) -> Path:
    root.mkdir(parents=True)
    for name, text in (("CMakeLists.txt", CMAKELISTS), ("order.c", ORDER_C), ("prog.c", PROG_C)):
        (root / name).write_text(text.lstrip(), encoding="utf-8")
    return root


def junit_results(build: Path, platform: str) -> dict[str, str]:
    suite = ET.parse(build / "junit" / f"ctest-{platform}.xml").getroot()
    return {
        str(case.get("name")): "failed" if case.find("failure") is not None else str(case.get("status"))
        for case in suite.iter("testcase")
    }


@pytest.mark.usefixtures("no_leftovers")
def test_cross_aware_project_runs_on_every_platform(tmp_path: Path) -> None:
    source = write_project(tmp_path / "src")
    result = run_build_py(
        "-p", ",".join(BYTE_ORDER), "-j", "2", "--source", str(source),
        "--build-dir", str(tmp_path / "build"), "--ccache-dir", str(tmp_path / "ccache"),
        timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    for platform, order in BYTE_ORDER.items():
        build = tmp_path / f"build.{platform}"
        assert (build / "byte-order.txt").read_text() == f"{order}\n", platform
        results = junit_results(build, platform)
        want = {"direct"} | (
            {"viaqemu", "viaqemu_static", "refuses_host_binary"} if platform in CROSS else set()
        )
        assert set(results) == want, (platform, results)
        assert set(results.values()) == {"run"}, (platform, results)
    assert "[s390x] -- byte order: big" in result.stdout + result.stderr


@pytest.mark.parametrize(("platform", "arch"), [("armv7", "arm"), ("s390x", "s390x")])
def test_emulator_commands_exist_under_both_names(tmp_path: Path, platform: str, arch: str) -> None:
    result = run_build_py(
        "-p", platform, "--build-dir", str(tmp_path / "build"), "--ccache-dir", str(tmp_path / "ccache"),
        "--", "bash", "-c", f"command -v qemu-{arch} qemu-{arch}-static && qemu-{arch} -h",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"/usr/local/bin/qemu-{arch}", f"/usr/local/bin/qemu-{arch}-static"]
    assert "-L path" in result.stdout and "QEMU_LD_PREFIX" in result.stdout


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_hints_recognise_the_real_cmake_version_error(tmp_path: Path) -> None:
    """The image's own CMake refusing a project that needs a newer one: the hint names both."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 99.1)\nproject(future C)\n")
    result = run_build_py(
        "-p", "amd64", "--source", str(source),
        "--build-dir", str(tmp_path / "build"), "--ccache-dir", str(tmp_path / "ccache"),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    lines = (result.stdout + result.stderr).splitlines()[-30:]
    (hint,) = hints_for(result.returncode, lines)
    assert "needs CMake 99.1 or newer and this image has CMake 3.31." in hint
