#!/usr/bin/env bash
# Make a project's image from a platform's image: run as root by the Dockerfile build.py writes
# for a project file's packages, build-packages and pre-build (ci/planning/projectimage.py).
# DIR holds `packages` (Debian packages for the target, one a line), `build-packages` (for the
# build machine), `toolchain` (`compiler FAMILY VERSION`: gcc-N and g++-N, or the cross
# image's gcc-N-<triplet> and g++-N-<triplet>, or clang-N; `sanitize LIST` with clang: its
# runtimes for the target, libclang-rt-N-dev, and llvm-N's llvm-symbolizer; `coverage FAMILY
# VERSION`: gcovr, and with clang llvm-N and the target's libclang-rt-N-dev) and pre-build/NNN.sh (shell commands, run in order).
# In a cross image (/opt/ci/cross.env) the target's packages install through Debian multiarch as
# PACKAGE:<debian-arch>; in a native or fully emulated image as they are named. Every name is
# checked against the archive before anything is installed. The commands see the target's
# Debian architecture and GNU triplet as CI_TARGET_DEBIAN_ARCH and CI_TARGET_TRIPLET, and the
# package lists where packages were installed (else they run apt-get update themselves).
# Exit 100: a package does not exist for its architecture; 101: a pre-build command failed;
# 102: the archive lists a package but does not serve its file (each after one line build.py
# reads: see the marks in ci/planning/projectimage.py).
# Usage: project_image.sh DIR
set -euo pipefail
dir=${1:?usage: project_image.sh DIR}
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o Acquire::Retries=5 -o APT::Install-Recommends=false -y -q)

if [ -r /opt/ci/cross.env ]; then
    # shellcheck source=/dev/null
    . /opt/ci/cross.env
fi
CI_TARGET_DEBIAN_ARCH=${CI_CROSS_DEBIAN:-$(dpkg --print-architecture)}
CI_TARGET_TRIPLET=${CI_CROSS_TRIPLET:-$(gcc -dumpmachine 2>/dev/null || true)}
export CI_TARGET_DEBIAN_ARCH CI_TARGET_TRIPLET

# The names apt must find: the target's qualified with its architecture in a cross image (unless
# the project qualified them itself), the build machine's as they are.
wanted=()
while read -r name; do
    [ -n "$name" ] || continue
    if [ -n "${CI_CROSS_DEBIAN:-}" ] && [[ $name != *:* ]]; then
        wanted+=("$name:$CI_CROSS_DEBIAN")
    else
        wanted+=("$name")
    fi
done <"$dir/packages"
while read -r name; do
    [ -z "$name" ] || wanted+=("$name")
done <"$dir/build-packages"

# What the run's toolchain needs (ci/planning/toolchains.py writes the lines).
clang_version=''
while read -r what family version; do
    case $what in
        compiler)
            if [ "$family" = clang ]; then
                clang_version=$version
                wanted+=("clang${version:+-$version}")
            elif [ -n "${CI_CROSS_TRIPLET:-}" ]; then
                wanted+=("gcc-$version-$CI_CROSS_TRIPLET" "g++-$version-$CI_CROSS_TRIPLET")
            else
                wanted+=("gcc-$version" "g++-$version")
            fi
            ;;
        sanitize)  # the target's runtimes, and llvm-symbolizer (their reports' files and lines)
            wanted+=("libclang-rt${clang_version:+-$clang_version}-dev${CI_CROSS_DEBIAN:+:$CI_CROSS_DEBIAN}"
                "llvm${clang_version:+-$clang_version}")
            ;;
        coverage)  # gcovr runs on the build machine; llvm-N's llvm-cov is clang's gcov, and the
            # target's libclang_rt.profile (libclang-rt-N-dev) what clang links --coverage with
            wanted+=(gcovr)
            [ "$family" != clang ] || wanted+=("llvm${version:+-$version}"
                "libclang-rt${version:+-$version}-dev${CI_CROSS_DEBIAN:+:$CI_CROSS_DEBIAN}")
            ;;
    esac
done < <(cat "$dir/toolchain" 2>/dev/null || true)

# Every name apt cannot find, all at once, before anything is installed.
check_names() {
    local out missing
    if out=$(apt-get "${apt_opts[@]}" -s install "${wanted[@]}" 2>&1); then
        return 0
    fi
    missing=$(printf '%s\n' "$out" | sed -n \
        -e "s/^E: Unable to locate package \(.*\)$/\1/p" \
        -e "s/^E: Package '\(.*\)' has no installation candidate$/\1/p" | sort -u | xargs)
    if [ -n "$missing" ]; then
        echo "ciharness-project: missing packages: $missing (for $CI_TARGET_DEBIAN_ARCH)"
        exit 100
    fi
    printf '%s\n' "$out" | grep -E '^(E|W):|^ ' >&2 || true
    echo "project_image.sh: apt cannot install: ${wanted[*]}" >&2
    exit 1
}

commands=()
if [ -d "$dir/pre-build" ]; then
    commands=("$dir"/pre-build/*.sh)
fi
# Install; a package the archive lists but does not serve (404: an incomplete mirror) is said
# as such, not retried as a network failure.
install() {
    local log status=0 absent
    log=$(mktemp)
    apt-get "${apt_opts[@]}" install "${wanted[@]}" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
    if [ "$status" -ne 0 ]; then
        absent=$(sed -n 's|^Err:[0-9]* [^ ]* [^ ]* [^ ]* \([^ ]*\) \([^ ]*\) .*|\1:\2|p' "$log" | sort -u | xargs)
        if [ -n "$absent" ] && grep -q "404  Not Found" "$log"; then
            echo "ciharness-project: not served: $absent (for $CI_TARGET_DEBIAN_ARCH)"
            exit 102
        fi
        exit "$status"
    fi
    rm -f "$log"
}

if [ "${#wanted[@]}" -gt 0 ]; then
    # Every index fetched, or a failure (a name is never called missing for a list not read).
    apt-get "${apt_opts[@]}" --error-on=any update
    check_names
    echo "==> installing ${wanted[*]}"
    install
fi

number=0
for command in "${commands[@]}"; do
    number=$((number + 1))
    echo "==> pre-build $number: $(head -n 1 "$command")"
    status=0
    bash -e "$command" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "ciharness-project: pre-build failed: $number $status $(head -n 1 "$command")"
        exit 101
    fi
done

apt-get clean
rm -rf /var/lib/apt/lists/*
