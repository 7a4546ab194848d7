# shellcheck shell=bash
# The autotools step of build_generic: configure (generated first in a tree from git), make, make check.
# Sourced by runtime_functions.sh (beside it in the container: /work/ci/buildsystems/autotools.sh),
# whose helpers (_log, _phase, _where, _words, _target_pkg_config, ...) it uses. Its rank and
# markers agree with ci/buildsystems/autotools.py (tests/unit/test_buildsystems.py checks).
_build_system autotools 3 configure configure.ac configure.in

# autotools: generate configure in the (copy-on-write) source if it has none (the project's
# autogen.sh or bootstrap, else autoreconf -fi), configure out of tree with --build and --host
# (so cross mode never depends on binfmt) and the compilers through ccache, make, make check
# (automake's harness leaves a .log and a .trs per test in the build tree). configure runs again
# only when its arguments changed (make reruns config.status itself when configure changed).
_build_autotools() {
    local args=() extra=() src=$CI_SOURCE_DIR stamp="$CI_BUILD_DIR/.ciharness-configure" status=0
    _target_pkg_config
    _autotools_generate
    args=(--build="$CI_BUILD_TRIPLET" --host="$CI_HOST_TRIPLET" CC="$CI_CC_LINE" CXX="$CI_CXX_LINE")
    if [ -n "$(_build_type_flags)" ]; then
        args+=(CFLAGS="$(_build_type_flags)" CXXFLAGS="$(_build_type_flags)")
    fi
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
    _test_attempts _autotools_all _autotools_failed _autotools_results || status=$?
    return "$status"
}

# make -k check (its arguments: _build_autotools's; -k: a failure in one dir of SUBDIRS does not
# leave the next untested); again, in each dir whose .trs files say a test did not pass,
# automake's own `make recheck` there (those tests only), or that dir's whole check where its
# harness has no recheck (the serial one, or its own check target).
_autotools_all() { make -C "$CI_BUILD_DIR" -k -j"${CI_TEST_JOBS:-1}" check "${extra[@]}"; }
_autotools_failed() {
    local dir status=0 target
    while read -r dir; do
        target=check
        ! LC_ALL=C make -C "$dir" -n recheck >/dev/null 2>&1 || target=recheck
        make -C "$dir" "${extra[@]}" -j1 "$target" || status=$?
    done < <(grep -rlE --include='*.trs' '^:test-result: (FAIL|ERROR|XPASS)' "$CI_BUILD_DIR" |
        grep -v '/.ciharness-attempts/' | xargs -r -n1 dirname | sort -u)
    return "$status"
}
# automake's .trs and .log of each test, DejaGnu's .sum and .log.
_autotools_results() {
    local file
    (cd "$CI_BUILD_DIR" && find . -path ./.ciharness-attempts -prune -o \( -name '*.trs' -o -name '*.sum' \) -type f -print) |
        while read -r file; do
            echo "$file"
            [ ! -f "$CI_BUILD_DIR/${file%.*}.log" ] || echo "${file%.*}.log"
        done
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
