#!/usr/bin/env bash
# Make the build image for ARCH from its row in the architecture table (../arches: docker/arches
# in the repository, /opt/ci/arches in the image), one of three ways by the build machine's
# Debian architecture (dpkg --print-architecture):
# - ARCH's own: a native image. Only the PACKAGEs given are installed, and the CMake toolchain
#   file at $CMAKE_TOOLCHAIN_FILE (default /opt/ci/toolchain.cmake) sets nothing, so the image's
#   ENV CMAKE_TOOLCHAIN_FILE holds in native and cross images alike; nothing else is written.
# - one of the row's cross_from: a cross image, below.
# - any other: refused (Debian has no cross toolchain for ARCH there), naming those that have one.
# A cross image gets Debian's gcc-<triplet> and g++-<triplet> (plus any PACKAGE given) and the
# target's pkg-config (Debian's pkgconf:<debian>: <triplet>-pkg-config), the CMake toolchain file
# at $CMAKE_TOOLCHAIN_FILE, the Meson cross file /opt/ci/meson-cross.ini, /opt/ci/cross.env (the
# triplet and tool names the build step reads), /opt/ci/sysroot -> the cross libc
# (/usr/<triplet>, what `qemu-<arch> -L` may name), the target's loader and libraries where the
# target expects them (target_runtime.sh: binaries run with no environment at all) and the
# qemu-<arch> emulator commands.
# Usage: cross_toolchain.sh [--dry-run] ARCH [PACKAGE...]   --dry-run prints what it would do
#        cross_toolchain.sh --cmake ARCH                     prints the (cross) CMake toolchain file
#        cross_toolchain.sh --meson ARCH                     prints the Meson cross file
#        cross_toolchain.sh --env ARCH                       prints /opt/ci/cross.env
# Environment: CI_BUILD_DEBIAN   the build machine's Debian architecture instead of dpkg's (so a
#                                --dry-run shows the plan for another build machine)
#              CMAKE_TOOLCHAIN_FILE   where the CMake toolchain file goes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table=$here/../arches
columns=(arch platform debian repo triplet qemu qemu_cpu cmake meson_family meson_cpu endian uname cross_from aliases)

die() {
    echo "cross_toolchain.sh: $*" >&2
    exit 2
}

# The table's rows: no comments, no blank lines, no header.
rows() {
    awk '/^#/ || !NF { next } header++' "$1"
}

# Set one shell variable per column (arch, triplet, qemu, cmake, ...) from ARCH's row.
read_row() {
    local -a row
    [ -r "$table" ] || die "cannot read the architecture table $table"
    read -r -a row < <(rows "$table" | awk -v want="$1" '$1 == want') || true
    [ "${#row[@]}" -gt 0 ] || die "no row for '$1' in $table (known: $(rows "$table" | awk '{print $1}' | xargs))"
    [ "${#row[@]}" -eq "${#columns[@]}" ] || die "the row for '$1' in $table has ${#row[@]} fields, not ${#columns[@]}"
    local i
    for i in "${!columns[@]}"; do
        printf -v "${columns[$i]}" '%s' "${row[$i]}"
    done
}

# Refuse a row that cannot make a cross image: its triplet, qemu or cmake is '-'.
# shellcheck disable=SC2154 # the columns, set by read_row
need_cross() {
    local i
    for i in "$triplet" "$qemu" "$cmake"; do
        [ "$i" != - ] || die "'$arch' has no cross toolchain in $table (its triplet, qemu or cmake is '-')"
    done
}

# The CMake toolchain file of a native image: comments only, CMake's defaults are right.
# shellcheck disable=SC2154 # the columns, set by read_row
native_toolchain() {
    cat <<EOF
# CMake toolchain for $arch, written by cross_toolchain.sh: this image is of $arch's own
# architecture (Debian's $debian), so the build is native and this file sets nothing: CMake
# finds the native compilers, libraries and pkg-config by itself. It is here so the image's
# ENV CMAKE_TOOLCHAIN_FILE names a file in native and cross images alike.
EOF
}

# shellcheck disable=SC2154 # the columns, set by read_row
cmake_toolchain() {
    cat <<EOF
# CMake toolchain for $arch, written by cross_toolchain.sh from its row in the architecture
# table: Debian's $triplet cross compilers and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $cmake)
set(CMAKE_C_COMPILER $triplet-gcc)
set(CMAKE_CXX_COMPILER $triplet-g++)
# The target's libraries, headers and CMake packages only. Roots: the cross libc
# (/usr/$triplet), and / for what Debian installs for $debian through multiarch, which CMake
# finds by the compiler's CMAKE_LIBRARY_ARCHITECTURE:
#   /usr/lib/$(multiarch)  /usr/include/$(multiarch)  /usr/include
# The build machine's /usr/lib/<its multiarch> is not searched unless a project names it (the
# build machine's pkg-config would: hence the target's, below).
set(CMAKE_FIND_ROOT_PATH /usr/$triplet /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg_check_modules runs the target's pkg-config (Debian's pkgconf:$debian) over the target's .pc
# files only, the dirs the Meson cross file and the build step name too.
set(PKG_CONFIG_EXECUTABLE /usr/bin/$triplet-pkg-config CACHE FILEPATH "the target's pkg-config")
if(NOT DEFINED ENV{PKG_CONFIG_LIBDIR})
  set(ENV{PKG_CONFIG_LIBDIR} $(pkg_config_libdir :))
endif()
# Target binaries run through qemu-$qemu (install/qemu-user, installed by the same script):
# try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-$qemu)
EOF
}

# Debian's multiarch tuple (the dirs /usr/lib/<multiarch> and /usr/include/<multiarch>): the
# triplet, except that Debian's i386 port is i386-linux-gnu whatever CPU its compiler targets.
# shellcheck disable=SC2154 # set by read_row
multiarch() {
    echo "${triplet/#i686-/i386-}"
}

# The dirs of the target's .pc files, joined by \$1: its multiarch dir and the architecture-free
# one; not /usr/lib/pkgconfig nor /usr/local, where the build machine's may be.
pkg_config_libdir() {
    printf '/usr/lib/%s/pkgconfig%s/usr/share/pkgconfig\n' "$(multiarch)" "$1"
}

# shellcheck disable=SC2154 # the columns, set by read_row
meson_cross() {
    cat <<EOF
# Meson cross file for $arch, written by cross_toolchain.sh from its row in the architecture
# table: Debian's $triplet cross compilers through ccache, the target's pkg-config
# (Debian's pkgconf:$debian) and qemu-$qemu to run target binaries.
[binaries]
c = ['ccache', '$triplet-gcc']
cpp = ['ccache', '$triplet-g++']
ar = '$triplet-ar'
strip = '$triplet-strip'
pkg-config = '$triplet-pkg-config'
exe_wrapper = '/usr/local/bin/qemu-$qemu'

[host_machine]
system = 'linux'
cpu_family = '$meson_family'
cpu = '$meson_cpu'
endian = '$endian'

[properties]
needs_exe_wrapper = true
pkg_config_libdir = [$(pkg_config_libdir "', '" | sed "s/.*/'&'/")]
EOF
}

# What the build step (runtime_functions.sh) reads in a cross image: sourced by bash.
# shellcheck disable=SC2154 # the columns, set by read_row
cross_env() {
    cat <<EOF
# The cross target of this image, written by cross_toolchain.sh for $arch; runtime_functions.sh
# sources it. Native images have no such file.
CI_CROSS_ARCH=$arch
CI_CROSS_TRIPLET=$triplet
CI_CROSS_MULTIARCH=$(multiarch)
CI_CROSS_DEBIAN=$debian
CI_CROSS_EMULATOR=/usr/local/bin/qemu-$qemu
CI_MESON_CROSS_FILE=/opt/ci/meson-cross.ini
CROSS_COMPILE=$triplet-
EOF
}

dry_run=no
case "${1:-}" in
    --cmake | --meson | --env)
        [ "$#" -eq 2 ] || die "usage: cross_toolchain.sh $1 ARCH"
        read_row "$2"
        need_cross
        case "$1" in
            --cmake) cmake_toolchain ;;
            --meson) meson_cross ;;
            --env) cross_env ;;
        esac
        exit 0
        ;;
    --dry-run) dry_run=yes && shift ;;
esac
case "${1:-}" in
    '' | -*) die "usage: cross_toolchain.sh [--dry-run] ARCH [PACKAGE...] | --cmake|--meson|--env ARCH" ;;
esac
read_row "$1"
shift
toolchain=${CMAKE_TOOLCHAIN_FILE:-/opt/ci/toolchain.cmake}
build=${CI_BUILD_DEBIAN:-$(dpkg --print-architecture 2>/dev/null)} || true
[ -n "$build" ] || die "cannot tell this build machine's Debian architecture (no dpkg); set CI_BUILD_DEBIAN"

run() {
    if [ "$dry_run" = yes ]; then
        printf '%s\n' "$*"
    else
        "$@"
    fi
}

# write FILE FUNCTION: FUNCTION's output into FILE.
write() {
    if [ "$dry_run" = yes ]; then
        echo "write $1"
    else
        mkdir -p "$(dirname "$1")"
        "$2" >"$1"
    fi
}

# shellcheck disable=SC2154 # the columns, set by read_row
if [ "$debian" != - ] && [ "$build" = "$debian" ]; then
    echo "cross_toolchain.sh: $arch on this $build build machine: native build, no cross toolchain"
    [ "$#" -eq 0 ] || run "$here/debian_packages.sh" "$@"
    write "$toolchain" native_toolchain
    exit 0
fi
# shellcheck disable=SC2154 # the columns, set by read_row
case ",$cross_from," in
    *",$build,"*) need_cross ;;
    ,-,) die "Debian has no cross toolchain for $arch on $build, nor on any other architecture;" \
        "make its image without cross_toolchain.sh" ;;
    *) die "Debian has no cross toolchain for $arch on $build (it has one on ${cross_from//,/, });" \
        "build this platform on one of those, or declare its image platform" \
        "(# ci.docker-platform: $platform) to build it in an emulated $arch userland" ;;
esac

# The target's Debian architecture, so Debian's pkgconf:<debian> (the <triplet>-pkg-config
# personality) and target libraries (apt-get install zlib1g-dev:<debian>) install. Debian's
# cross compiler packages spell the triplet without '_' (gcc-x86-64-linux-gnu).
run dpkg --add-architecture "$debian"
run "$here/debian_packages.sh" "gcc-${triplet//_/-}" "g++-${triplet//_/-}" "pkgconf:$debian" "$@"
write "$toolchain" cmake_toolchain
write /opt/ci/meson-cross.ini meson_cross
write /opt/ci/cross.env cross_env
run ln -sfn "/usr/$triplet" /opt/ci/sysroot
run "$here/target_runtime.sh" "$triplet" "$(multiarch)"
run "$here/emulator_commands.sh" "$qemu"
