# shellcheck shell=bash
# The Meson step of build_generic: meson setup, meson compile, meson test.
# Sourced by runtime_functions.sh (beside it in the container: /work/ci/buildsystems/meson.sh),
# whose helpers (_log, _phase, _where, _words, _target_pkg_config, ...) it uses. Its rank and
# markers agree with ci/buildsystems/meson.py (tests/unit/test_buildsystems.py checks).
_build_system meson 2 meson.build

# Meson: `meson setup` out of tree (with the image's cross file in cross images), `meson
# compile`, `meson test`, which leaves meson-logs/testlog.json and testlog.junit.xml. A build dir
# already set up with the same arguments is not set up again (`meson compile` regenerates what
# changed); other arguments reconfigure it, and one that cannot be reconfigured is wiped.
_build_meson() {
    local args=() extra=() test_args=() stamp="$CI_BUILD_DIR/.ciharness-meson-setup" status=0
    if [ -n "${CI_MESON_CROSS_FILE:-}" ]; then
        args=(--cross-file "$CI_MESON_CROSS_FILE")
    fi
    _meson_toolchain args
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
    local jobs=()
    if [ -n "${CI_TEST_JOBS:-}" ]; then
        jobs=(--num-processes "$CI_TEST_JOBS")
    fi
    _phase testing
    _log "meson test on $(_where)"
    _test_attempts _meson_all _meson_failed _meson_results || status=$?
    return "$status"
}

# meson test over the suite (its arguments: _build_meson's); again, the tests the last run's
# testlog.json says did not pass, by name (`project:name` where it names them `project:suite /
# name`, as it does in a project of several suites), one at a time.
_meson_all() { meson test -C "$CI_BUILD_DIR" --print-errorlogs "${jobs[@]}" "${test_args[@]}"; }
_meson_failed() {
    local names=()
    mapfile -t names < <(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    test = json.loads(line) if line.strip() else {}
    if test.get("result") in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "INTERRUPT"):
        name = test["name"]
        if " / " in name:
            name = name.split(":", 1)[0] + ":" + name.split(" / ", 1)[1]
        print(name)
' "$CI_BUILD_DIR/meson-logs/testlog.json")
    [ "${#names[@]}" -gt 0 ] || return 1 # nothing it can name: the failure stands
    meson test -C "$CI_BUILD_DIR" --print-errorlogs "${test_args[@]}" --num-processes 1 "${names[@]}"
}
_meson_results() { echo meson-logs/testlog.json; }

# Meson's arguments for the run's toolchain, added to the array named $1: a machine file naming
# the compilers (a cross file after the image's, which it overrides, in a cross image; else a
# native file), --buildtype, -Db_sanitize (and -Db_lundef=false, which clang's sanitizers need),
# -Db_coverage.
_meson_toolchain() {
    local -n _args=$1
    local file="$CI_BUILD_DIR/.ciharness-machine.ini" target=''
    if [ -n "${CI_COMPILER:-}" ]; then
        mkdir -p "$CI_BUILD_DIR"
        [ -z "$CI_CC_TARGET" ] || target=", '--target=$CI_CC_TARGET'"
        printf "[binaries]\nc = ['ccache', '%s'%s]\ncpp = ['ccache', '%s'%s]\n" \
            "$CI_CC" "$target" "$CI_CXX" "$target" >"$file"
        if [ -n "${CI_MESON_CROSS_FILE:-}" ]; then
            _args+=(--cross-file "$file")
        else
            _args+=(--native-file "$file")
        fi
    fi
    [ -z "${CI_BUILD_TYPE:-}" ] || _args+=(--buildtype "$CI_BUILD_TYPE")
    if [ -n "${CI_SANITIZE:-}" ]; then
        _args+=(-Db_sanitize="$CI_SANITIZE")
        case ${CI_COMPILER:-gcc} in
            clang*) _args+=(-Db_lundef=false) ;;
        esac
    fi
    [ "${CI_COVERAGE:-0}" != 1 ] || _args+=(-Db_coverage=true)
}
