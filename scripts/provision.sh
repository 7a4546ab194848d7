#!/usr/bin/env bash
# Provision this machine for the harness: Debian packages (Docker engine, QEMU user-mode with
# binfmt_misc handlers, mmdebstrap and debootstrap, shellcheck, and the registry, Redis, tmux, sshd,
# openssl and headless Chromium the tests run), a running dockerd, and the Python
# virtual environment with the pinned dependencies. Idempotent: what is present is left alone,
# so a second run takes about a second. What it writes inside the clone (.venv/, .tools/,
# __pycache__/) belongs to the clone's owner however it is started (as root, with sudo, or as
# the owner, who needs sudo only for the system-wide parts); packages, dockerd and binfmt are root's.
#
# Usage: scripts/provision.sh [--no-engine] [--no-venv] [--no-tools] [--podman]
#   --no-engine   skip the Debian packages and dockerd (only the Python environment)
#   --no-venv     skip the Python environment
#   --no-tools    skip the linters from the npm registry (npm-groovy-lint for the Jenkinsfile)
#   --podman      also install Debian's podman
# Environment: CI_VENV (default: <repo>/.venv), CI_DOCKERD_LOG (default: /var/log/ci-dockerd.log)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${CI_VENV:-$repo/.venv}
dockerd_log=${CI_DOCKERD_LOG:-/var/log/ci-dockerd.log}
want_engine=1
want_venv=1
want_podman=0
want_tools=1
tools=$repo/.tools
groovy_lint_version=15.2.2  # the last release that runs on Node 20
for arg in "$@"; do
    case $arg in
        --no-engine) want_engine=0 ;;
        --no-venv) want_venv=0 ;;
        --podman) want_podman=1 ;;
        --no-tools) want_tools=0 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "provision: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'provision: %s\n' "$*" >&2; }

# Whose clone this is: what the script writes inside it is theirs, not root's.
owner_uid=$(stat -c %u "$repo")
owner_ids=$owner_uid:$(stat -c %g "$repo")

# Run a command that writes inside the clone as the clone's owner. As root for another owner,
# through runuser, which also sets HOME to the owner's: pip's and npm's caches go there, not to
# root's. Anyone else runs it as themselves.
as_owner() {
    if [ "$(id -u)" -ne 0 ] || [ "$owner_uid" -eq 0 ]; then
        "$@"
        return
    fi
    local owner
    if ! owner=$(getent passwd "$owner_uid" | cut -d: -f1) || [ -z "$owner" ]; then
        say "the clone's owner (uid $owner_uid) has no account here to write its files as;"
        say "run this script as that uid, or give the clone to a user of this machine"
        exit 6
    fi
    (cd "$repo" && runuser -u "$owner" -- "$@")  # from a dir the owner can read
}

# The same for the virtual environment, which is the owner's only when it is inside the clone.
as_venv_owner() {
    case $venv/ in
        "$repo"/*) as_owner "$@" ;;
        *) "$@" ;;
    esac
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root for: $* (run this script as root or install sudo)"
        exit 3
    fi
}

# Debian packages, keyed by a command each one provides.
declare -A pkg_for=(
    [dockerd]=docker.io
    [qemu-aarch64-static]=qemu-user-static
    [update-binfmts]=binfmt-support
    [debootstrap]=debootstrap
    [mmdebstrap]=mmdebstrap
    [shellcheck]=shellcheck
    [docker-registry]=docker-registry
    [redis-server]=redis-server
    [tmux]=tmux
    [sshd]=openssh-server
    [openssl]=openssl
    [chromium]=chromium  # the tests render the HTML report in it, headless
)

install_packages() {
    local missing=() cmd
    for cmd in "${!pkg_for[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${pkg_for[$cmd]}")
    done
    if ! /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if [ "$want_podman" -eq 1 ]; then
        # podman, its init, and what rootless podman needs (uid maps, user-mode networking).
        local tool
        for tool in podman:podman catatonit:catatonit newuidmap:uidmap \
            slirp4netns:slirp4netns fuse-overlayfs:fuse-overlayfs; do
            command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "${tool%%:*}" ] ||
                [ -x "/usr/libexec/podman/${tool%%:*}" ] || missing+=("${tool#*:}")
        done
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        return
    fi
    say "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    case " ${missing[*]} " in
        *" redis-server "*) quiet_redis ;;
    esac
}

# Debian's redis-server package starts a system Redis on port 6379 as it installs. The tests
# start their own on free ports, and where a site's shared ccache runs is the site's decision
# (docs/caching.md: Shared compiler cache), so the one this script installed is stopped and disabled.
quiet_redis() {
    say "stopping and disabling the system redis-server service (tests start their own)"
    if [ -d /run/systemd/system ]; then
        as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
    else
        as_root service redis-server stop >/dev/null 2>&1 || true
        as_root update-rc.d redis-server disable >/dev/null 2>&1 || true
    fi
}

# Rootless podman's networking (slirp4netns) opens /dev/net/tun as the user; some machines
# ship it root-only (0600) where udev would make it 0666.
open_tun() {
    if [ "$want_podman" -eq 1 ] && [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
        say "making /dev/net/tun usable by rootless podman (mode 0666, as udev sets it)"
        as_root chmod 0666 /dev/net/tun
    fi
}

# binfmt_probe MACHINE (uname -m): the QEMU binfmt_misc handler whose presence says the handlers
# are registered. One for an architecture foreign to the machine: qemu-user-static registers
# none for the machine's own (aarch64 binaries run natively on an aarch64 machine).
binfmt_probe() {
    case $1 in
        x86_64) echo qemu-aarch64 ;;
        *) echo qemu-x86_64 ;;
    esac
}

register_binfmt() {
    local probe
    probe=/proc/sys/fs/binfmt_misc/$(binfmt_probe "$(uname -m)")
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
    fi
    if [ ! -e "$probe" ]; then
        say "registering QEMU binfmt_misc handlers"
        as_root update-binfmts --enable >/dev/null 2>&1 || true
        # binfmt-support's own import covers every format qemu-user-static ships.
        local fmt
        for fmt in /usr/share/binfmts/qemu-*; do
            as_root update-binfmts --import "$(basename "$fmt")" >/dev/null 2>&1 || true
        done
    fi
    if [ ! -e "$probe" ]; then
        say "warning: QEMU binfmt_misc handlers could not be registered; foreign platforms will not run"
    fi
}

engine_up() {
    timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_dockerd() {
    if engine_up; then
        return
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        say "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local engine for it"
        exit 4
    fi
    say "starting dockerd (log: $dockerd_log)"
    case $dockerd_log in  # a log inside the clone is the owner's file; root only appends to it
        "$repo"/*) [ -e "$dockerd_log" ] || as_owner touch "$dockerd_log" ;;
    esac
    # cgroup v1 on these machines: dockerd mounts what it needs itself.
    as_root bash -c "nohup setsid dockerd >>'$dockerd_log' 2>&1 </dev/null &"
    local i
    for i in $(seq 1 60); do
        if engine_up; then
            say "dockerd is up after ${i}x0.5 s"
            return
        fi
        sleep 0.5
    done
    say "dockerd did not come up within 30 s; see $dockerd_log"
    tail -n 20 "$dockerd_log" >&2 || true
    exit 4
}

# The system interpreter, so every user on the machine (not only the one who provisioned) can run
# build.py: a venv made from a per-user interpreter such as pyenv's is unusable by others.
pick_python() {
    local candidate
    for candidate in "${CI_PYTHON:-}" /usr/bin/python3 python3; do
        if [ -n "$candidate" ] && "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
    done
    say "no Python 3 with venv found; install python3-venv"
    exit 5
}

make_venv() {
    local req=$repo/requirements.txt stamp=$venv/.requirements.sha256 want python
    python=$(pick_python)
    want="$(sha256sum "$req" | cut -d' ' -f1) $python"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return
    fi
    say "creating Python environment in $venv with $python"
    as_venv_owner rm -rf "$venv"
    as_venv_owner "$python" -m venv "$venv"
    as_venv_owner "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2>&1 |
        { grep -v "is ignored: it is neither" || true; } >&2
    echo "$want" | as_venv_owner tee "$stamp" >/dev/null
}

# An earlier provision as root (before it wrote as the owner) left root-owned files in the
# clone, which the owner cannot remove: they are given back to the owner.
give_back() {
    local paths=() path foreign
    for path in "$repo/ci" "$tools" "$venv"; do
        case $path/ in "$repo"/*) [ ! -e "$path" ] || paths+=("$path") ;; esac
    done
    [ "${#paths[@]}" -gt 0 ] || return 0
    foreign=$({ find "${paths[@]}" ! -uid "$owner_uid" -print 2>/dev/null || true; } | wc -l)
    if [ "$foreign" -gt 0 ]; then
        say "giving $foreign files in the clone that an earlier run left to another user back to uid $owner_uid"
        as_root find "${paths[@]}" ! -uid "$owner_uid" -exec chown -h "$owner_ids" {} +
    fi
}

if [ "$want_engine" -eq 1 ]; then
    install_packages
    open_tun
    register_binfmt
    start_dockerd
fi
# npm-groovy-lint (CodeNarc, run with the machine's Java) lints the Jenkinsfile offline.
make_tools() {
    local bin=$tools/node_modules/.bin/npm-groovy-lint
    if [ -x "$bin" ] && grep -q "\"version\": \"$groovy_lint_version\"" "$tools/node_modules/npm-groovy-lint/package.json"; then
        return
    fi
    if ! command -v npm >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            npm default-jre-headless >/dev/null
    fi
    say "installing npm-groovy-lint $groovy_lint_version in $tools"
    as_owner mkdir -p "$tools"
    as_owner npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "npm-groovy-lint@$groovy_lint_version" >/dev/null
}

if [ "$(id -u)" -eq 0 ] || [ "$(id -u)" -eq "$owner_uid" ]; then
    give_back
fi
if [ "$want_venv" -eq 1 ]; then
    make_venv
    # Byte-compile the harness's own modules (every subpackage), as pip does for what it
    # installs: where PYTHONDONTWRITEBYTECODE is set, every run would otherwise compile them again.
    as_owner "$venv/bin/python" -m compileall -q "$repo/ci" >/dev/null
fi
if [ "$want_tools" -eq 1 ]; then
    make_tools
fi
