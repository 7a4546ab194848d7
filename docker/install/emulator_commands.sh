#!/usr/bin/env bash
# Install the conventional QEMU user-mode commands of a cross image: qemu-ARCH and
# qemu-ARCH-static in /usr/local/bin, both the qemu-user script beside this one.
# Usage: emulator_commands.sh ARCH...   (QEMU's architecture names: arm, aarch64, s390x, ...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for arch in "$@"; do
    for name in "qemu-$arch" "qemu-$arch-static"; do
        ln -sf "$here/qemu-user" "/usr/local/bin/$name"
    done
    "/usr/local/bin/qemu-$arch" -version
done
