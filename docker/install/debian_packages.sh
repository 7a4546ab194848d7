#!/usr/bin/env bash
# Install Debian packages in an image: retries for flaky mirrors, no recommends, no leftovers.
# Where every PACKAGE is installed already (a layer made outside the image put them there:
# ci.images.nativepackages, for cross_toolchain.sh's RUN), one line says so and apt is not run:
# its update alone is a minute under QEMU.
# Usage: debian_packages.sh PACKAGE...
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Whether every PACKAGE is installed: dpkg's state `installed` for each (each architecture's where
# a name without one matches several); a PACKAGE=VERSION is left to apt.
all_installed() {
    local package states
    for package in "$@"; do
        case $package in *=*) return 1 ;; esac
        # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
        states=$(dpkg-query -W -f '${db:Status-Status}\n' "$package" 2>/dev/null) || return 1
        [ -n "$states" ] && ! grep -qvx installed <<<"$states" || return 1
    done
}

if [ "$#" -gt 0 ] && all_installed "$@"; then
    echo "debian_packages.sh: $* already installed; no apt-get"
    exit 0
fi
apt_opts=(-o Acquire::Retries=5 -o APT::Install-Recommends=false -y -q)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
