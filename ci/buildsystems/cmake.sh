# shellcheck shell=bash
# The CMake step of build_generic: configure, build, ctest.
# Sourced by runtime_functions.sh (beside it in the container: /work/ci/buildsystems/cmake.sh),
# whose helpers (_log, _phase, _where, _words, _target_pkg_config, ...) it uses. Its rank and
# markers agree with ci/buildsystems/cmake.py (tests/unit/test_buildsystems.py checks).
_build_system cmake 1 CMakeLists.txt

# CMake: configure (Ninja, compilers through ccache, the image's CMAKE_TOOLCHAIN_FILE), build,
# ctest with JUnit XML.
_build_cmake() {
    local cmake_args=() toolchain=()
    _words cmake_args CONFIGURE_ARGS CMAKE_ARGS
    if [ -n "${CI_COMPILER:-}${CI_SANITIZE:-}" ] || [ "${CI_COVERAGE:-0}" = 1 ]; then
        toolchain=(-DCMAKE_TOOLCHAIN_FILE="$(_cmake_toolchain)")
    fi
    _log "configure $CI_SOURCE_DIR for $CI_PLATFORM"
    cmake -S "$CI_SOURCE_DIR" -B "$CI_BUILD_DIR" -G Ninja \
        -DCMAKE_BUILD_TYPE="${CI_BUILD_TYPE:-${CMAKE_BUILD_TYPE:-RelWithDebInfo}}" \
        -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        "${toolchain[@]}" "${cmake_args[@]}"
    _log "build with $CI_JOBS jobs"
    cmake --build "$CI_BUILD_DIR" --parallel "$CI_JOBS"
    unittest_ctest
}

# A CMake toolchain file for the run's compiler, sanitizers and coverage, over the image's own
# ($CMAKE_TOOLCHAIN_FILE: the cross image's target, compilers, find modes), written to the build
# dir; its path.
_cmake_toolchain() {
    local file="$CI_BUILD_DIR/.ciharness-toolchain.cmake" lang
    mkdir -p "$CI_BUILD_DIR"
    {
        [ -z "${CMAKE_TOOLCHAIN_FILE:-}" ] || printf 'include("%s")\n' "$CMAKE_TOOLCHAIN_FILE"
        printf 'set(CMAKE_C_COMPILER "%s")\nset(CMAKE_CXX_COMPILER "%s")\n' "$CI_CC" "$CI_CXX"
        for lang in C CXX; do
            [ -z "$CI_CC_TARGET" ] || printf 'set(CMAKE_%s_COMPILER_TARGET "%s")\n' "$lang" "$CI_CC_TARGET"
            [ -z "$CI_SANITIZE_FLAGS" ] || printf 'set(CMAKE_%s_FLAGS_INIT "%s")\n' "$lang" "$CI_SANITIZE_FLAGS"
        done
        for lang in EXE SHARED MODULE; do
            [ -z "$CI_SANITIZE_FLAGS" ] || printf 'set(CMAKE_%s_LINKER_FLAGS_INIT "%s")\n' "$lang" "$CI_SANITIZE_FLAGS"
        done
    } >"$file"
    echo "$file"
}
