#!/usr/bin/env bash
# The native build tools every build image has: GCC, CMake, Ninja, Meson, autoconf, automake,
# libtool, make, ccache, and what real builds and tests call on the build machine: pkg-config
# (pkgconf), python3, perl, xxd, file. The same layer in every Dockerfile, so the engine builds
# it once and shares it.
set -euo pipefail
exec "$(dirname "$0")/debian_packages.sh" ca-certificates gcc g++ cmake ninja-build meson \
    autoconf automake libtool make ccache pkgconf python3 perl xxd file
