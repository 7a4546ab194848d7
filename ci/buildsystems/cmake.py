"""Know: CMake. Recognised by CMakeLists.txt; configured with Ninja and the cross images' toolchain
file; its tests run by ctest, which writes our JUnit itself (runtime_functions.sh labels it)."""

from __future__ import annotations

import re

from ci.buildsystems.spec import LIBRARY, PROGRAM, BuildSystem

SPEC = BuildSystem(
    name="cmake",
    markers=("CMakeLists.txt",),
    packages=("cmake", "ninja-build"),
    layer="build-tools",
    test_command="ctest",
    cross="the toolchain file /opt/ci/toolchain.cmake (CMAKE_TOOLCHAIN_FILE)",
    build_types=("RelWithDebInfo", "Debug", "Release", "MinSizeRel"),  # the step's default; CMAKE_BUILD_TYPE
    results=(),
    programs={"cmake": "cmake", "ctest": "cmake", "ninja": "ninja-build"},
    missing_program=(
        # find_program(... REQUIRED): "Could not find HELP2MAN using the following names: help2man".
        re.compile(rf"Could not find \w+ using the following names: (?P<cmake_program>{PROGRAM})"),
    ),
    missing_library=(
        re.compile(
            # Find modules, REQUIRED: "CMake Error at .../FindPackageHandleStandardArgs.cmake:233
            # (message):" then "  Could NOT find ZLIB (missing: ...)"; an optional one is a "-- " line.
            rf"^CMake Error at [^\n]*\(message\):\n[ \t]*Could NOT find (?P<cmake>{LIBRARY})"
            # Config packages: "CMake Error at CMakeLists.txt:3 (find_package):" then, a few
            # wrapped lines on, 'package configuration file provided by "fmt"'.
            r"|^CMake Error at [^\n]*\(find_package\):\n(?:[^\n]*\n){0,3}?[^\n]*?"
            r'package\s+configuration\s+file\s+provided\s+by\s+"(?P<config>[^"]+)"'
            # pkg_check_modules REQUIRED: the list under this line, "   - zlib>=1.2".
            r"|^[ \t]*The following required packages were not found:[ \t]*\n(?:[ \t]*\n)*"
            r"(?P<listed>(?:[ \t]+- [^\n]*(?:\n|$))+)",
            re.MULTILINE,
        ),
    ),
)
