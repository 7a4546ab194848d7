#!/usr/bin/env bash
# Install the native build tools every build image needs, plus any extra packages named as
# arguments. apt's own retries cover flaky mirrors; lists and caches are dropped afterwards.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o Acquire::Retries=5 -o APT::Install-Recommends=false -y -q)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install ca-certificates cmake ninja-build ccache make file "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
