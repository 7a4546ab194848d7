#!/usr/bin/env bash
# Make a cross image for ARCH from its row in the architecture table (../arches: docker/arches in
# the repository, /opt/ci/arches in the image): Debian's gcc-<triplet> and g++-<triplet> (plus any
# PACKAGE given), the CMake toolchain file at $CMAKE_TOOLCHAIN_FILE (default
# /opt/ci/toolchain.cmake), /opt/ci/sysroot -> the cross libc (/usr/<triplet>, what
# QEMU_LD_PREFIX names) and the qemu-<arch> emulator commands (emulator_commands.sh).
# Usage: cross_toolchain.sh [--dry-run] ARCH [PACKAGE...]   --dry-run prints what it would do
#        cross_toolchain.sh --cmake ARCH                     prints the CMake toolchain file
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table=$here/../arches
columns=(arch platform debian repo triplet qemu cmake meson_family meson_cpu endian uname aliases)

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
    # shellcheck disable=SC2154 # set above, through printf -v
    for i in "$triplet" "$qemu" "$cmake"; do
        [ "$i" != - ] || die "'$1' has no cross toolchain in $table (its triplet, qemu or cmake is '-')"
    done
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
set(CMAKE_FIND_ROOT_PATH /usr/$triplet)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Target binaries run through qemu-$qemu (install/qemu-user, installed by the same script):
# try_run, ctest and test discovery at build time run them with it.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/local/bin/qemu-$qemu)
EOF
}

dry_run=no
case "${1:-}" in
    --cmake)
        [ "$#" -eq 2 ] || die "usage: cross_toolchain.sh --cmake ARCH"
        read_row "$2"
        cmake_toolchain
        exit 0
        ;;
    --dry-run) dry_run=yes && shift ;;
esac
case "${1:-}" in
    '' | -*) die "usage: cross_toolchain.sh [--dry-run] ARCH [PACKAGE...] | --cmake ARCH" ;;
esac
read_row "$1"
shift
toolchain=${CMAKE_TOOLCHAIN_FILE:-/opt/ci/toolchain.cmake}

run() {
    if [ "$dry_run" = yes ]; then
        printf '%s\n' "$*"
    else
        "$@"
    fi
}

run "$here/debian_packages.sh" "gcc-$triplet" "g++-$triplet" "$@"
if [ "$dry_run" = yes ]; then
    echo "write $toolchain"
else
    mkdir -p "$(dirname "$toolchain")"
    cmake_toolchain >"$toolchain"
fi
run ln -sfn "/usr/$triplet" /opt/ci/sysroot
run "$here/emulator_commands.sh" "$qemu"
