#!/usr/bin/env bash
# One function per CI step, run inside the build containers by build.py:
#   /work/runtime_functions.sh FUNCTION [ARG...]
# Mounts: the source tree at $CI_SOURCE_DIR (/work/src, writable: copy-on-write by default),
# the build dir at $CI_BUILD_DIR (/work/build) and the ccache dir at $CCACHE_DIR (/work/ccache).
# Functions whose names start with '_' are helpers, not steps.
set -euo pipefail

: "${CI_SOURCE_DIR:=/work/src}"
: "${CI_BUILD_DIR:=/work/build}"
: "${CI_PLATFORM:=unknown}"
: "${CI_JOBS:=$(nproc)}"

_log() { printf '==> %s\n' "$*" >&2; }
# Name the phase this step enters: build.py's live board shows the word as the platform's state
# (a line `==> phase: WORD`, lowercase; your own functions may print it too).
_phase() { printf '==> phase: %s\n' "$1" >&2; }

# ccache's settings come from the environment build.py sets (CCACHE_DIR, CCACHE_MAXSIZE,
# CCACHE_TEMPDIR, CCACHE_STATSLOG), never from writing the shared cache's own config or
# zeroing its counters, which concurrent runs share. build.py reports this run's hits and misses.
_ccache_setup() {
    mkdir -p "${CCACHE_TEMPDIR:-/tmp/ccache-tmp}"
}

# Configure, build through ccache, run ctest and write JUnit XML. Works on any CMake project.
# CMAKE_ARGS (space separated) adds configure arguments; CTEST_ARGS adds ctest arguments.
build_generic() {
    _ccache_setup
    local cmake_args=()
    read -r -a cmake_args <<<"${CMAKE_ARGS:-}"
    _log "configure $CI_SOURCE_DIR for $CI_PLATFORM"
    cmake -S "$CI_SOURCE_DIR" -B "$CI_BUILD_DIR" -G Ninja \
        -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
        -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        "${cmake_args[@]}"
    _log "build with $CI_JOBS jobs"
    cmake --build "$CI_BUILD_DIR" --parallel "$CI_JOBS"
    unittest_ctest
}

# Name the suite and prefix every test's class with the platform, so a Jenkins junit step that
# collects several platforms' XML keeps them apart.
_junit_label() {
    sed -i -e "s/<testsuite name=\"[^\"]*\"/<testsuite name=\"ctest.$CI_PLATFORM\"/" \
        -e "s/ classname=\"/ classname=\"$CI_PLATFORM./g" "$1"
}

# Run the ctest suite of an existing build and write JUnit XML to junit/ctest-<platform>.xml.
# Under emulation (CI_EMULATED=1) tests labelled no_emulation are left out: QEMU user mode gets
# some things wrong (see README, "What QEMU gets wrong").
unittest_ctest() {
    local ctest_args=() status=0 xml="$CI_BUILD_DIR/junit/ctest-$CI_PLATFORM.xml"
    read -r -a ctest_args <<<"${CTEST_ARGS:-}"
    if [ "${CI_EMULATED:-0}" = 1 ]; then
        ctest_args+=(-LE no_emulation)
    fi
    mkdir -p "$CI_BUILD_DIR/junit"
    _phase testing
    _log "ctest on $CI_PLATFORM${CI_EMULATED:+ (emulated: $CI_EMULATED)}"
    ctest --test-dir "$CI_BUILD_DIR" --output-on-failure --parallel "$CI_JOBS" \
        --output-junit "$xml" "${ctest_args[@]}" || status=$?
    if [ -f "$xml" ]; then
        _junit_label "$xml"
    fi
    return "$status"
}

# Only the xsum test-vector tests, from an existing build.
unittest_xsum() {
    CTEST_ARGS="-R ^vectors\\. ${CTEST_ARGS:-}" unittest_ctest
}

# Print what the container is: architecture, libc, compiler. Handy with -i and for triage.
describe_platform() {
    printf 'platform=%s machine=%s\n' "$CI_PLATFORM" "$(uname -m)"
    (ldd --version 2>&1 | head -n 1) || true
    (cc --version 2>/dev/null | head -n 1) || true
}

_dispatch() {
    if [ "$#" -eq 0 ]; then
        echo "usage: $0 FUNCTION [ARG...]" >&2
        exit 2
    fi
    if [[ "$1" == _* ]] || [ "$(type -t "$1")" != "function" ]; then
        echo "runtime_functions.sh: unknown function '$1'" >&2
        exit 127
    fi
    "$@"
}

_dispatch "$@"
