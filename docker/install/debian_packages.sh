#!/usr/bin/env bash
# Install Debian packages in an image: retries for flaky mirrors, no recommends, no leftovers.
# Usage: debian_packages.sh PACKAGE...
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o Acquire::Retries=5 -o APT::Install-Recommends=false -y -q)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
