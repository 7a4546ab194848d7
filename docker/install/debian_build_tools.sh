#!/usr/bin/env bash
# The native build tools every build image has: GCC, CMake, Ninja, make, ccache, and what real
# builds and tests call on the build machine: pkg-config (pkgconf), xxd, file; with no argument
# also the other build systems' tools: Meson, autoconf, automake, libtool (python3 and perl come
# with them). The same layer in every Dockerfile, so the engine builds it once and shares it.
# Usage: debian_build_tools.sh [--cmake-only]
#   --cmake-only   leave out Meson and the autotools: for full-emulation userlands (test.<arch>),
#                  where installing Python and Perl under QEMU costs minutes, and which are for
#                  running things as the target would, not for building (prefer the cross platform)
set -euo pipefail
core=(ca-certificates gcc g++ cmake ninja-build make ccache pkgconf xxd file)
systems=(meson autoconf automake libtool python3 perl)
case "${1:-}" in
    --cmake-only) systems=() ;;
    '') ;;
    *) echo "debian_build_tools.sh: unknown option '$1' (--cmake-only)" >&2; exit 2 ;;
esac
exec "$(dirname "$0")/debian_packages.sh" "${core[@]}" "${systems[@]}"
