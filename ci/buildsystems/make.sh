# shellcheck shell=bash
# The plain Make step of build_generic: make in the source tree, then its check or test target.
# Sourced by runtime_functions.sh (beside it in the container: /work/ci/buildsystems/make.sh),
# whose helpers (_log, _phase, _where, _words, _target_pkg_config, ...) it uses. Its rank and
# markers agree with ci/buildsystems/make.py (tests/unit/test_buildsystems.py checks).
_build_system make 4 GNUmakefile makefile Makefile

# The make variables a plain Makefile gets on make's command line, as Debian's dh_auto_build
# passes them for cross builds: the target's tools, the run's compilers (and sanitizers: in CC
# and CXX, so they reach every compile and link whatever the Makefile's CFLAGS) through ccache;
# CFLAGS and CXXFLAGS only for a --build-type.
_make_vars() {
    local -n _vars=$1
    local t=$CI_HOST_TRIPLET
    _vars=(CC="$CI_CC_LINE" CXX="$CI_CXX_LINE" AR="$t-ar" RANLIB="$t-ranlib" STRIP="$t-strip")
    if [ -n "$(_build_type_flags)" ]; then
        _vars+=(CFLAGS="$(_build_type_flags)" CXXFLAGS="$(_build_type_flags)")
    fi
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
    local vars=() args=() target='' status=0
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
    # shellcheck disable=SC2034  # read by runtime_functions.sh's _coverage_dirs
    CI_BUILDS_IN_SOURCE=1 # its objects, and coverage's .gcno and .gcda, are in the source tree
    _phase testing
    _log "make $target on $(_where)"
    _test_attempts _make_check _make_check_alone _make_results || status=$?
    return "$status"
}

# The test target (_build_make's), its output and status in .ciharness-check(.log); a plain
# Makefile names no test, so a rerun is the whole target again.
_make_check() {
    local start end status=0
    start=$(date +%s.%N)
    make -C "$CI_SOURCE_DIR" -j"${CI_TEST_JOBS:-1}" "${vars[@]}" "$target" "${args[@]}" 2>&1 |
        tee "$log" || status=${PIPESTATUS[0]}
    end=$(date +%s.%N)
    printf 'target=%s\nstatus=%s\nseconds=%s\n' "$target" "$status" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')" >"$record"
    return "$status"
}
_make_check_alone() { CI_TEST_JOBS=1 _make_check; }
_make_results() { printf '%s\n' .ciharness-check .ciharness-check.log; }
