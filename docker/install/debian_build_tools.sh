#!/usr/bin/env bash
# The native build tools every build image has: GCC, CMake, Ninja, ccache, file. The same
# layer in every Dockerfile, so the engine builds it once and shares it.
set -euo pipefail
exec "$(dirname "$0")/debian_packages.sh" ca-certificates gcc g++ cmake ninja-build ccache make file
