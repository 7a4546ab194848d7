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
    CI_HOST_TRIPLET=${CI_CROSS_TRIPLET:-$CI_BUILD_TRIPLET}
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

# The build system of $CI_SOURCE_DIR, in build.py's order: cmake, meson, autotools, make (none:
# nothing known). build.py decides it and passes CI_BUILD_SYSTEM; this is for runs by hand.
_detect_build_system() {
    local s=$CI_SOURCE_DIR f
    for f in CMakeLists.txt:cmake meson.build:meson configure:autotools configure.ac:autotools \
        configure.in:autotools GNUmakefile:make makefile:make Makefile:make; do
        if [ -f "$s/${f%%:*}" ]; then
            echo "${f#*:}"
            return 0
        fi
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
    case "$system" in
        cmake | meson | autotools | make) ;;
        none)
            echo "runtime_functions.sh: no build system in $CI_SOURCE_DIR (looked for CMakeLists.txt, meson.build, configure, configure.ac, configure.in, GNUmakefile, makefile, Makefile)" >&2
            return 2
            ;;
        *)
            echo "runtime_functions.sh: unknown build system '$system' (cmake, meson, autotools or make)" >&2
            return 2
            ;;
    esac
    _ccache_setup
    _cross_env
    _log "build system: $system"
    "_build_$system"
}

# CMake: configure (Ninja, compilers through ccache, the image's CMAKE_TOOLCHAIN_FILE), build,
# ctest with JUnit XML.
_build_cmake() {
    local cmake_args=()
    _words cmake_args CONFIGURE_ARGS CMAKE_ARGS
    _log "configure $CI_SOURCE_DIR for $CI_PLATFORM"
    cmake -S "$CI_SOURCE_DIR" -B "$CI_BUILD_DIR" -G Ninja \
        -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
        -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        "${cmake_args[@]}"
    _log "build with $CI_JOBS jobs"
    cmake --build "$CI_BUILD_DIR" --parallel "$CI_JOBS"
    unittest_ctest
}

# Meson: `meson setup` out of tree (with the image's cross file in cross images), `meson
# compile`, `meson test`, which leaves meson-logs/testlog.json and testlog.junit.xml. A build dir
# already set up with the same arguments is not set up again (`meson compile` regenerates what
# changed); other arguments reconfigure it, and one that cannot be reconfigured is wiped.
_build_meson() {
    local args=() extra=() test_args=() stamp="$CI_BUILD_DIR/.ciharness-meson-setup" status=0
    if [ -n "${CI_MESON_CROSS_FILE:-}" ]; then
        args=(--cross-file "$CI_MESON_CROSS_FILE")
    fi
    _words extra CONFIGURE_ARGS
    args+=("${extra[@]}")
    if [ ! -f "$CI_BUILD_DIR/meson-private/coredata.dat" ]; then
        _log "meson setup $CI_SOURCE_DIR for $CI_PLATFORM"
        meson setup "$CI_BUILD_DIR" "$CI_SOURCE_DIR" "${args[@]}"
    elif [ "$(cat "$stamp" 2>/dev/null)" != "${args[*]}" ]; then
        _log "meson setup --reconfigure (arguments changed)"
        meson setup --reconfigure "$CI_BUILD_DIR" "$CI_SOURCE_DIR" "${args[@]}" ||
            meson setup --wipe "$CI_BUILD_DIR" "$CI_SOURCE_DIR" "${args[@]}"
    fi
    printf '%s\n' "${args[*]}" >"$stamp"
    _log "build with $CI_JOBS jobs"
    meson compile -C "$CI_BUILD_DIR" -j "$CI_JOBS"
    _words test_args TEST_ARGS
    if [ -n "${CI_TEST_JOBS:-}" ]; then
        test_args=(--num-processes "$CI_TEST_JOBS" "${test_args[@]}")
    fi
    _phase testing
    _log "meson test on $(_where)"
    meson test -C "$CI_BUILD_DIR" --print-errorlogs "${test_args[@]}" || status=$?
    return "$status"
}

# autotools: generate configure in the (copy-on-write) source if it has none (the project's
# autogen.sh or bootstrap, else autoreconf -fi), configure out of tree with --build and --host
# (so cross mode never depends on binfmt) and the compilers through ccache, make, make check
# (automake's harness leaves a .log and a .trs per test in the build tree). configure runs again
# only when its arguments changed (make reruns config.status itself when configure changed).
_build_autotools() {
    local args=() extra=() src=$CI_SOURCE_DIR stamp="$CI_BUILD_DIR/.ciharness-configure" status=0
    _target_pkg_config
    _autotools_generate
    args=(--build="$CI_BUILD_TRIPLET" --host="$CI_HOST_TRIPLET"
        CC="ccache $CI_HOST_TRIPLET-gcc" CXX="ccache $CI_HOST_TRIPLET-g++")
    _words extra CONFIGURE_ARGS
    args+=("${extra[@]}")
    mkdir -p "$CI_BUILD_DIR"
    if [ ! -f "$CI_BUILD_DIR/config.status" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${args[*]}" ]; then
        _log "configure $src for $CI_PLATFORM ($CI_HOST_TRIPLET)"
        (cd "$CI_BUILD_DIR" && "$src/configure" "${args[@]}")
        printf '%s\n' "${args[*]}" >"$stamp"
    fi
    _log "build with $CI_JOBS jobs"
    make -C "$CI_BUILD_DIR" -j"$CI_JOBS"
    _words extra TEST_ARGS
    _phase testing
    _log "make check on $(_where)"
    make -C "$CI_BUILD_DIR" -j"${CI_TEST_JOBS:-1}" check "${extra[@]}" || status=$?
    return "$status"
}

# A source tree from git has configure.ac but no configure: generate it in the source, with the
# project file's bootstrap command (CI_BOOTSTRAP, run by bash in the source dir) if it names one,
# else the project's autogen.sh or bootstrap script, else autoreconf -fi. Some projects' scripts
# exit 0 without writing configure (they print advice unless given a flag): then autoreconf -fi
# runs after them, said in one line. No configure after that: one line and status 93
# (ci/errors.py: ExitCode.NO_CONFIGURE), not a shell error later.
_autotools_generate() {
    local src=$CI_SOURCE_DIR what=''
    [ ! -f "$src/configure" ] || return 0
    if [ -n "${CI_BOOTSTRAP:-}" ]; then
        what="the project file's bootstrap command ($CI_BOOTSTRAP)"
        _log "no configure: running $what"
        (cd "$src" && NOCONFIGURE=1 bash -c "$CI_BOOTSTRAP")
    elif [ -f "$src/autogen.sh" ]; then
        what="the project's autogen.sh"
        _log "no configure: running $what"
        (cd "$src" && NOCONFIGURE=1 bash ./autogen.sh)
    elif [ -f "$src/bootstrap" ]; then
        what="the project's bootstrap"
        _log "no configure: running $what"
        (cd "$src" && bash ./bootstrap)
    fi
    if [ -n "$what" ] && [ ! -f "$src/configure" ]; then
        _log "$what exited 0 but wrote no configure: running autoreconf -fi instead (to run the project's own script with other arguments, name it as bootstrap = \"./autogen.sh ...\" in ciharness.toml)"
    fi
    if [ ! -f "$src/configure" ]; then
        [ -n "$what" ] || _log "no configure: autoreconf -fi"
        (cd "$src" && autoreconf -fi)
        what="${what:+$what and }autoreconf -fi"
    fi
    if [ ! -f "$src/configure" ]; then
        echo "runtime_functions.sh: $what left no configure in $src: name the command that writes it as bootstrap = \"...\" in ciharness.toml, or check configure.ac" >&2
        return 93
    fi
}

# The make variables a plain Makefile gets on make's command line, as Debian's dh_auto_build
# passes them for cross builds: the target's tools, compilers through ccache.
_make_vars() {
    local -n _vars=$1
    local t=$CI_HOST_TRIPLET
    _vars=(CC="ccache $t-gcc" CXX="ccache $t-g++" AR="$t-ar" RANLIB="$t-ranlib" STRIP="$t-strip")
    if [ -n "${CI_CROSS_TRIPLET:-}" ]; then
        _vars+=(CROSS_COMPILE="$CROSS_COMPILE")
    fi
    _vars+=(PKG_CONFIG="${PKG_CONFIG:-pkg-config}")
}

# Whether the Makefile in $CI_SOURCE_DIR has the target $1 (a dry run that does not say
# "No rule to make target").
_make_has_target() {
    local vars=() said
    _make_vars vars
    said=$(LC_ALL=C make -C "$CI_SOURCE_DIR" -n "$1" "${vars[@]}" 2>&1 >/dev/null) || true
    [[ "$said" != *"No rule to make target '$1'"* ]]
}

# Plain Make: build in the (copy-on-write) source tree, then its `check` or else `test` target,
# whichever exists. For build.py: $CI_BUILD_DIR/.ciharness-check (target=check|test|, empty:
# none; status=N; seconds=S) and the target's whole output in .ciharness-check.log.
_build_make() {
    local vars=() args=() target='' status=0 start end
    local record="$CI_BUILD_DIR/.ciharness-check" log="$CI_BUILD_DIR/.ciharness-check.log"
    _target_pkg_config
    _make_vars vars
    _log "make in $CI_SOURCE_DIR for $CI_PLATFORM with $CI_JOBS jobs"
    make -C "$CI_SOURCE_DIR" -j"$CI_JOBS" "${vars[@]}"
    for target in check test ''; do
        [ -z "$target" ] || ! _make_has_target "$target" || break
    done
    mkdir -p "$CI_BUILD_DIR"
    rm -f "$record" "$log"
    if [ -z "$target" ]; then
        _log "the Makefile has neither a check nor a test target"
        printf 'target=\nstatus=0\nseconds=0\n' >"$record"
        return 0
    fi
    _words args TEST_ARGS
    _phase testing
    _log "make $target on $(_where)"
    start=$(date +%s.%N)
    make -C "$CI_SOURCE_DIR" -j"${CI_TEST_JOBS:-1}" "${vars[@]}" "$target" "${args[@]}" 2>&1 |
        tee "$log" || status=${PIPESTATUS[0]}
    end=$(date +%s.%N)
    printf 'target=%s\nstatus=%s\nseconds=%s\n' "$target" "$status" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')" >"$record"
    return "$status"
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
    _words ctest_args TEST_ARGS CTEST_ARGS
    if [ -n "${CI_TEST_JOBS:-}" ]; then
        ctest_args=(--parallel "$CI_TEST_JOBS" "${ctest_args[@]}")
    fi
    if [ "${CI_EMULATED:-0}" = 1 ]; then
        ctest_args+=(-LE no_emulation)
    fi
    mkdir -p "$CI_BUILD_DIR/junit"
    _phase testing
    _log "ctest on $(_where)"
    ctest --test-dir "$CI_BUILD_DIR" --output-on-failure \
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
