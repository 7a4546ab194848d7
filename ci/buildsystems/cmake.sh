# shellcheck shell=bash
# The CMake step of build_generic: configure, build, ctest.
# Sourced by runtime_functions.sh (beside it in the container: /work/ci/buildsystems/cmake.sh),
# whose helpers (_log, _phase, _where, _words, _target_pkg_config, ...) it uses. Its rank and
# markers agree with ci/buildsystems/cmake.py (tests/unit/test_buildsystems.py checks).
_build_system cmake 1 CMakeLists.txt

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
