#!/usr/bin/env bash
# The other build systems' tools, a layer of their own on top of debian_build_tools.sh: Meson
# (with python3), autoconf, automake and libtool (with perl). Every build image has them; the
# full-emulation userlands (test.<arch>) leave them out, since installing Python under QEMU
# (byte-compiling its library) costs many minutes and they are for running, not building.
set -euo pipefail
exec "$(dirname "$0")/debian_packages.sh" meson autoconf automake libtool python3 perl
