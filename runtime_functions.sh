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
# The platform, and whether its tests run emulated (CI_EMULATED=1), for log lines.
_where() { printf '%s%s' "$CI_PLATFORM" "$([ "${CI_EMULATED:-0}" != 1 ] || echo ' (emulated)')"; }

# ccache's settings come from the environment build.py sets (CCACHE_DIR, CCACHE_MAXSIZE,
# CCACHE_TEMPDIR, CCACHE_STATSLOG), never from writing the shared cache's own config or
# zeroing its counters, which concurrent runs share. build.py reports this run's hits and misses.
_ccache_setup() {
    mkdir -p "${CCACHE_TEMPDIR:-/tmp/ccache-tmp}"
}

# The image's cross target, if it has one (cross_toolchain.sh writes /opt/ci/cross.env:
# CI_CROSS_TRIPLET, CROSS_COMPILE, ...), and the GNU triplets of the build machine and the
# target: CI_BUILD_TRIPLET, CI_HOST_TRIPLET (the same in native images).
_cross_env() {
    if [ -r /opt/ci/cross.env ]; then
        # shellcheck source=/dev/null
        . /opt/ci/cross.env
    fi
    CI_BUILD_TRIPLET=$(gcc -dumpmachine)
    # shellcheck disable=SC2034  # read by the step files (ci/buildsystems/*.sh)
    CI_HOST_TRIPLET=${CI_CROSS_TRIPLET:-$CI_BUILD_TRIPLET}
}

# The run's toolchain, from what build.py passes (--compiler, --sanitize, --build-type as
# CI_COMPILER, CI_SANITIZE, CI_BUILD_TYPE; unset: the image's gcc, none, the build system's
# default): the compiler commands CI_CC and CI_CXX for the target (gcc-N: <triplet>-gcc-N in a
# cross image; clang: CI_CC_TARGET is the triplet it is given as --target, against the same cross
# libc and libstdc++ gcc uses), CI_SANITIZE_FLAGS for compiling and linking (with CI_COVERAGE=1
# also --coverage), CI_GCOV (the gcov of the compiler and target, for gcovr), and CI_CC_LINE and
# CI_CXX_LINE (ccache, the compiler, its target, the flags: CC and CXX for autotools and Make).
# Under sanitizers a finding ends its test with a failure (the *SAN_OPTIONS below, unless -e set
# them: halt_on_error; UBSan's stack trace).
_toolchain() {
    local compiler=${CI_COMPILER:-gcc} family suffix='' llvm
    family=${compiler%%-*}
    [ "$compiler" = "$family" ] || suffix=-${compiler#*-}
    CI_CC_TARGET=''
    if [ "$family" = clang ]; then
        CI_CC=clang$suffix CI_CXX=clang++$suffix CI_CC_TARGET=${CI_CROSS_TRIPLET:-}
        # llvm-symbolizer, which clang's sanitizer runtimes run to name files and lines
        llvm=/usr/lib/llvm$suffix/bin
        [ -n "$suffix" ] || llvm=$(find /usr/lib -maxdepth 2 -path '/usr/lib/llvm-*/bin' | sort -V | tail -n 1)
        [ -z "$llvm" ] || [ ! -d "$llvm" ] || PATH=$PATH:$llvm
        CI_GCOV="${llvm:+$llvm/}llvm-cov gcov"
    else
        CI_CC=$CI_HOST_TRIPLET-gcc$suffix CI_CXX=$CI_HOST_TRIPLET-g++$suffix
        CI_GCOV=$CI_HOST_TRIPLET-gcov$suffix
    fi
    CI_SANITIZE_FLAGS=''
    if [ -n "${CI_SANITIZE:-}" ]; then
        CI_SANITIZE_FLAGS="-fsanitize=$CI_SANITIZE -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
        # under QEMU without LeakSanitizer, which needs ptrace (docs/toolchains.md)
        export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1$([ "${CI_EMULATED:-0}" != 1 ] || echo :detect_leaks=0)}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
        export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
        export MSAN_OPTIONS=${MSAN_OPTIONS:-halt_on_error=1}
    fi
    [ "${CI_COVERAGE:-0}" != 1 ] || CI_SANITIZE_FLAGS="${CI_SANITIZE_FLAGS:+$CI_SANITIZE_FLAGS }--coverage"
    # shellcheck disable=SC2034  # read by the step files (ci/buildsystems/*.sh)
    CI_CC_LINE="ccache $CI_CC${CI_CC_TARGET:+ --target=$CI_CC_TARGET}${CI_SANITIZE_FLAGS:+ $CI_SANITIZE_FLAGS}"
    # shellcheck disable=SC2034
    CI_CXX_LINE="ccache $CI_CXX${CI_CC_TARGET:+ --target=$CI_CC_TARGET}${CI_SANITIZE_FLAGS:+ $CI_SANITIZE_FLAGS}"
    _log "compiler: $("$CI_CC" --version | head -n 1)${CI_CC_TARGET:+ for $CI_CC_TARGET}${CI_SANITIZE:+, sanitizers $CI_SANITIZE}${CI_BUILD_TYPE:+, build type $CI_BUILD_TYPE}$([ "${CI_COVERAGE:-0}" != 1 ] || echo ', coverage')"
}

# The optimisation and debug flags of a build type (autotools' and Make's CFLAGS); empty: the
# project's own.
_build_type_flags() {
    case ${CI_BUILD_TYPE:-} in
        debug) echo "-O0 -g" ;;
        release) echo "-O2" ;;
        debugoptimized) echo "-O2 -g" ;;
    esac
}

# In a cross image, make pkg-config mean the target's for autotools and Make: PKG_CONFIG names
# Debian's <triplet>-pkg-config (pkgconf:<debian>), and PKG_CONFIG_LIBDIR the target's .pc dirs
# only (the dirs of the Meson cross file and the CMake toolchain), so a Makefile running plain
# `pkg-config` gets the target's flags too. PKG_CONFIG_LIBDIR replaces the search path;
# PKG_CONFIG_PATH would be searched before the build machine's dirs, which would still leak in.
# Values given with -e are kept. Native images: nothing to do.
_target_pkg_config() {
    [ -n "${CI_CROSS_TRIPLET:-}" ] || return 0
    : "${PKG_CONFIG:=$CI_CROSS_TRIPLET-pkg-config}"
    : "${PKG_CONFIG_LIBDIR:=/usr/lib/$CI_CROSS_MULTIARCH/pkgconfig:/usr/share/pkgconfig}"
    export PKG_CONFIG PKG_CONFIG_LIBDIR
}

# The build systems: one step file each in ci/buildsystems/ beside this script (in the container
# /work/ci/buildsystems/<name>.sh), each registering itself with `_build_system NAME RANK
# MARKER...` and defining _build_<NAME>. build.py decides which one runs (CI_BUILD_SYSTEM); the
# ranks and markers are for runs by hand, in build.py's order.
declare -A _SYSTEM_RANK=() _SYSTEM_MARKERS=()
_build_system() {
    _SYSTEM_RANK[$1]=$2
    _SYSTEM_MARKERS[$1]="${*:3}"
}
for _step in "$(dirname "${BASH_SOURCE[0]:-$0}")"/ci/buildsystems/*.sh; do
    # shellcheck source=/dev/null
    [ ! -f "$_step" ] || . "$_step"
done
unset _step

# The build systems by rank, one a line.
_build_systems() {
    local name
    for name in "${!_SYSTEM_RANK[@]}"; do
        printf '%s %s\n' "${_SYSTEM_RANK[$name]}" "$name"
    done | sort -n | cut -d' ' -f2
}

# Every build system's marker files, in rank order, comma separated.
_all_markers() {
    local system
    for system in $(_build_systems); do
        printf '%s\n' "${_SYSTEM_MARKERS[$system]}"
    done | xargs | sed 's/ /, /g'
}

# The build system of $CI_SOURCE_DIR, the first whose marker file is at its root (none: nothing
# known). build.py decides it and passes CI_BUILD_SYSTEM; this is for runs by hand.
_detect_build_system() {
    local system marker
    for system in $(_build_systems); do
        for marker in ${_SYSTEM_MARKERS[$system]}; do
            if [ -f "$CI_SOURCE_DIR/$marker" ]; then
                echo "$system"
                return 0
            fi
        done
    done
    echo none
}

# Arguments for a tool, into the array named by $1: the project file's configure-args or
# test-args first (build.py passes them one a line as CI_CONFIGURE_ARGS / CI_TEST_ARGS, for the
# first name CONFIGURE_ARGS / TEST_ARGS), then the words of every variable named (CONFIGURE_ARGS,
# then its old name CMAKE_ARGS, ...).
_words() {
    local -n _into=$1
    local name part=() project=
    _into=()
    case $2 in
        CONFIGURE_ARGS) project=${CI_CONFIGURE_ARGS:-} ;;
        TEST_ARGS) project=${CI_TEST_ARGS:-} ;;
    esac
    if [ -n "$project" ]; then
        mapfile -t _into <<<"$project"
    fi
    for name in "${@:2}"; do
        read -r -a part <<<"${!name:-}"
        _into+=("${part[@]}")
    done
}

# Build and test any C/C++ project: one function per build system (CI_BUILD_SYSTEM, else found
# from the source tree), each compiling through ccache and printing `==> phase: testing` before
# its tests. CONFIGURE_ARGS (space separated) adds configure arguments (cmake, meson setup,
# configure); TEST_ARGS adds test arguments (ctest, meson test, make check). CMAKE_ARGS and
# CTEST_ARGS still work (added after them). CI_TEST_JOBS: empty runs the tests as the project's
# own test command does (ctest one at a time, meson test's own parallelism, make check with one
# job); N runs N at a time. The status is the build's failure, else the tests'.
build_generic() {
    local system=${CI_BUILD_SYSTEM:-}
    [ -n "$system" ] || system=$(_detect_build_system)
    if [ "$system" = none ]; then
        echo "runtime_functions.sh: no build system in $CI_SOURCE_DIR (looked for $(_all_markers))" >&2
        return 2
    fi
    if [ -z "${_SYSTEM_RANK[$system]:-}" ]; then
        echo "runtime_functions.sh: unknown build system '$system' ($(_build_systems | xargs))" >&2
        return 2
    fi
    _ccache_setup
    _cross_env
    _toolchain
    _log "build system: $system"
    "_build_$system"
}

# Where a build's .gcno and .gcda files are: the build dir, and the source tree where the step
# builds in it (a plain Makefile's: CI_BUILDS_IN_SOURCE=1). Not the source tree otherwise: build
# dirs of other runs may sit in it.
_coverage_dirs() {
    printf '%s\n' "$CI_BUILD_DIR"
    [ "${CI_BUILDS_IN_SOURCE:-0}" != 1 ] || printf '%s\n' "$CI_SOURCE_DIR"
}

# Before the tests of a coverage run: no counts of an earlier run.
_coverage_reset() {
    local dirs=()
    mapfile -t dirs < <(_coverage_dirs)
    find "${dirs[@]}" -path "$CI_BUILD_DIR/.ciharness-attempts" -prune -o -name '*.gcda' -type f -exec rm -f {} +
    # configure's test programs, whose sources it removed (gcov would stop at each)
    find "$CI_BUILD_DIR" -maxdepth 1 -name '*conftest*.gcno' -type f -exec rm -f {} +
}

GCOVR_OLDEST=7 # its --gcov-ignore-errors and --json-add-tracefile (Debian trixie has 7.2)

# After the tests (_test_attempts: they ran), gcovr with the gcov of the compiler and target
# ($CI_GCOV) over the counts the tests left, the project's root as its root (paths in the reports
# relative to it; its gcovr.cfg, if any, applies): $CI_BUILD_DIR/coverage/ gets cobertura.xml,
# index.html (and a page a file), coverage.json (gcovr's own, for merging platforms) and
# summary.json. Where it cannot (no instrumented object, a gcovr too old or failing) it says why
# and leaves no summary.json: build.py fails the run for it (a report was asked for). The tests'
# status is left as it is.
_coverage() {
    local out="$CI_BUILD_DIR/coverage" dirs=() version
    mapfile -t dirs < <(_coverage_dirs)
    rm -rf "$out"
    _phase coverage
    if [ -z "$(find "${dirs[@]}" -name '*.gcno' -type f -print -quit)" ]; then
        _log "coverage: no .gcno file: nothing was built with --coverage (a build dir configured without it? remove it, or use another --build-dir)"
        return 0
    fi
    version=$(gcovr --version 2>/dev/null | grep -oE '[0-9]+' | head -n 1) || true
    if [ -z "$version" ] || [ "$version" -lt "$GCOVR_OLDEST" ]; then
        _log "coverage: gcovr ${version:-(none)} in this image; $GCOVR_OLDEST or later is needed (Debian trixie's)"
        return 0
    fi
    mkdir -p "$out"
    _log "coverage: gcovr with $CI_GCOV"
    # from the root: the Cobertura XML's <source> is then `.`, the project's root wherever it is;
    # a .gcno whose source is gone (a generated file, a configure check's) is told, not fatal
    if (cd "$CI_SOURCE_DIR" && gcovr --root "$CI_SOURCE_DIR" --gcov-executable "$CI_GCOV" \
        --gcov-ignore-errors=source_not_found -j "$CI_JOBS" --print-summary \
        --cobertura "$out/cobertura.xml" --cobertura-pretty --html-details "$out/index.html" \
        --html-title "Coverage: $CI_PLATFORM" --json "$out/coverage.json" \
        --json-summary "$out/summary.json.part" --json-summary-pretty "${dirs[@]}"); then
        mv "$out/summary.json.part" "$out/summary.json" # last: the sign that all of it was written
    else
        _log "coverage: gcovr failed (its output above)"
    fi
}

# A test phase with reruns. $1 runs the tests, $2 runs again those that failed (one at a time,
# whatever the project's test arguments say), $3 prints the files (relative to $CI_BUILD_DIR)
# that hold an attempt's results. After a failed
# attempt, up to CI_RETRIES more (default none), of the failed tests only; where the tests ran
# several at a time by build.py's choice (CI_RERUN_ALONE=1: under QEMU), one more first: the
# failed ones alone, its number in .ciharness-attempts/alone. Once there is a second attempt,
# each one's files are kept as $CI_BUILD_DIR/.ciharness-attempts/<n>.tar for build.py, which
# merges them (a test that passed on a rerun is flaky). With CI_COVERAGE=1, gcovr after the last
# (_coverage). The status: the last attempt's.
_test_attempts() {
    local run=$1 again=$2 results=$3 dir="$CI_BUILD_DIR/.ciharness-attempts" attempt=1 status=0
    local last=$((${CI_RETRIES:-0} + 1))
    [ "${CI_RERUN_ALONE:-0}" != 1 ] || last=$((last + 1))
    rm -rf "$dir" "$CI_BUILD_DIR/.ciharness-test-status"
    [ "${CI_COVERAGE:-0}" != 1 ] || _coverage_reset
    "$run" || status=$?
    while [ "$status" -ne 0 ] && [ "$attempt" -lt "$last" ]; do
        _keep_attempt "$dir" "$attempt" "$results"
        attempt=$((attempt + 1))
        if [ "$attempt" = 2 ] && [ "${CI_RERUN_ALONE:-0}" = 1 ]; then
            _log "the failed tests again, each alone (they ran $CI_TEST_JOBS at a time)"
            echo 2 >"$dir/alone"
        else
            _log "attempt $attempt of $last: the failed tests again, one at a time"
        fi
        status=0
        "$again" || status=$?
    done
    [ ! -d "$dir" ] || _keep_attempt "$dir" "$attempt" "$results"
    echo "$status" >"$CI_BUILD_DIR/.ciharness-test-status" # for build.py: the failure is the tests'
    [ "${CI_COVERAGE:-0}" != 1 ] || _coverage
    return "$status"
}

_keep_attempt() {
    local files=()
    mkdir -p "$1"
    mapfile -t files < <("$3")
    tar -C "$CI_BUILD_DIR" -cf "$1/$2.tar" -- "${files[@]}"
}

# Name the suite and prefix every test's class with the platform, so a Jenkins junit step that
# collects several platforms' XML keeps them apart.
_junit_label() {
    sed -i -e "s/<testsuite name=\"[^\"]*\"/<testsuite name=\"ctest.$CI_PLATFORM\"/" \
        -e "s/ classname=\"/ classname=\"$CI_PLATFORM./g" "$1"
}

# Run the ctest suite of an existing build and write JUnit XML to junit/ctest-<platform>.xml, its
# failed tests again (ctest --rerun-failed) as CI_RETRIES says (_test_attempts).
# Under emulation (CI_EMULATED=1) tests labelled no_emulation are left out: QEMU user mode gets
# some things wrong (see docs/platforms.md, "What QEMU gets wrong").
unittest_ctest() {
    local ctest_args=() jobs=() status=0 xml="$CI_BUILD_DIR/junit/ctest-$CI_PLATFORM.xml"
    _words ctest_args TEST_ARGS CTEST_ARGS
    if [ -n "${CI_TEST_JOBS:-}" ]; then
        jobs=(--parallel "$CI_TEST_JOBS")
    fi
    if [ "${CI_EMULATED:-0}" = 1 ]; then
        ctest_args+=(-LE no_emulation)
    fi
    mkdir -p "$CI_BUILD_DIR/junit"
    _phase testing
    _log "ctest on $(_where)"
    _test_attempts _ctest_all _ctest_failed _ctest_results || status=$?
    return "$status"
}

# ctest over the suite (its arguments and xml: unittest_ctest's), the XML labelled.
_ctest() {
    local status=0
    ctest --test-dir "$CI_BUILD_DIR" --output-on-failure --output-junit "$xml" "$@" || status=$?
    [ ! -f "$xml" ] || _junit_label "$xml"
    return "$status"
}
_ctest_all() { _ctest "${jobs[@]}" "${ctest_args[@]}"; }
_ctest_failed() { _ctest --rerun-failed "${ctest_args[@]}" --parallel 1; }
_ctest_results() { echo "junit/ctest-$CI_PLATFORM.xml"; }

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
