#!/usr/bin/env bash
# The native build tools every build image has: GCC, CMake, Ninja, make, ccache, and what real
# builds and tests call on the build machine: pkg-config (pkgconf), xxd, file. The same layer in
# every Dockerfile (full-emulation userlands included), so the engine builds it once per
# architecture and shares it; debian_build_systems.sh adds Meson and the autotools on top.
set -euo pipefail
exec "$(dirname "$0")/debian_packages.sh" ca-certificates gcc g++ cmake ninja-build make ccache \
    pkgconf xxd file
