#!/usr/bin/env bash
# Run the project's checks tier by tier, provisioning what is missing first, and print how long
# each tier took. Usage: scripts/test.sh [TIER...]   (default: lint unit engine)
#   lint    ruff, ruff format, mypy --strict, shellcheck, npm-groovy-lint (Jenkinsfile),
#           check-jsonschema and zizmor (.github/workflows/ci.yml)
#   unit    tests/unit: pure logic, no Docker
#   engine  tests/integration: the real Docker engine (builds, runs, ownership, -i, errors); the
#           tests marked `serial` after the others, which run several at a time
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

tiers=("$@")
[ "${#tiers[@]}" -gt 0 ] || tiers=(lint unit engine)

start=$(date +%s)
"$repo/scripts/provision.sh" --podman
py=$repo/.venv/bin/python
declare -a summary=("provision $(($(date +%s) - start)) s")

pytest_tier() {
    local status=0
    "$py" -m pytest "$@" || status=$?
    # pytest's 5 means "no tests collected": a tier that ran nothing has failed.
    [ "$status" -ne 5 ] || echo "test.sh: no tests were collected for $*" >&2
    return "$status"
}

# The engine tier in two phases, chosen by marker: the tests that can share the machine, several
# at a time (pytest-xdist; tests of one xdist_group share a worker; handed out in collection
# order, those marked `early` first), then those marked `serial` (timing-sensitive, or loading
# every core on purpose) one at a time, the one marked `last` (it restarts dockerd) last of all.
# Beside both phases, from the start, the tests marked `lane` run in a process of their own, in
# order: a long chain (the arm64 userland's image, then the native arm64 image over it and the
# x86 images of an arm64 engine, under QEMU), which would otherwise hold the parallel phase open
# long after the rest is done. Its output follows the serial phase's. When the engine tier is asked for, the lane starts
# right after provisioning (below), beside the lint and unit tiers (which leave a core idle).
# TEST_WORKERS sets the first phase's workers (default 4: with the lane, five streams on two cores,
# as the tests wait on engines, registries, signals and QEMU as much as they compute).
lane_pid='' lane_log=''
start_lane() {
    lane_log=$(mktemp)
    pytest_tier tests/integration -q --timeout=3600 -m lane -p no:cacheprovider >"$lane_log" 2>&1 &
    lane_pid=$!
}

# The run's image-transport registry (tests/integration/cache_registry.py), handed to every pytest
# run of the engine tier as CI_TEST_CACHE_REGISTRY: the tests that need a registry only to move a
# build image to another engine push the amd64 image to it once a run, not once each (a push to
# a new registry is 33 CPU-seconds of dockerd's compression here). Stopped when this script exits.
cache_registry_dir=''
start_cache_registry() {
    cache_registry_dir=$(mktemp -d)
    CI_TEST_CACHE_REGISTRY=$("$py" -m tests.integration.cache_registry "$cache_registry_dir")
    export CI_TEST_CACHE_REGISTRY
}
# shellcheck disable=SC2317  # called by the EXIT trap
stop_cache_registry() {
    [ -n "$cache_registry_dir" ] || return 0
    if [ -f "$cache_registry_dir/pid" ]; then
        kill "$(cat "$cache_registry_dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$cache_registry_dir"
}
trap stop_cache_registry EXIT

engine_tier() {
    local status=0 lane_status=0
    pytest_tier tests/integration -q --timeout=1800 -m "not serial and not lane" \
        -n "${TEST_WORKERS:-4}" --dist loadgroup --no-loadscope-reorder || status=$?
    pytest_tier tests/integration -q --timeout=1800 -m "serial and not last and not lane" || status=$?
    wait "$lane_pid" || lane_status=$?
    echo "=== the lane (tests marked lane, run beside both phases)" >&2
    cat "$lane_log" >&2
    rm -f "$lane_log"
    [ "$lane_status" -eq 0 ] || status=$lane_status
    # When nothing else runs: it restarts dockerd.
    pytest_tier tests/integration -q --timeout=1800 -m last || status=$?
    return "$status"
}

# The real Groovy linter on the Jenkinsfile; and on a broken copy, which it must reject (so a
# linter that silently checks nothing cannot pass).
lint_jenkinsfile() {
    local lint=$repo/.tools/node_modules/.bin/npm-groovy-lint broken
    "$lint" --failon warning --noserver Jenkinsfile >/dev/null || return 1
    broken=$(mktemp -d)
    sed 's/^pipeline {$/pipeline {{/' Jenkinsfile >"$broken/Jenkinsfile"
    if "$lint" --failon error --noserver "$broken/Jenkinsfile" >/dev/null 2>&1; then
        echo "test.sh: npm-groovy-lint accepted a broken Jenkinsfile" >&2
        rm -rf "$broken"
        return 1
    fi
    rm -rf "$broken"
    echo "test.sh: Jenkinsfile lint ok (and a broken copy was rejected)" >&2
}

# The GitHub Actions workflow: its schema (check-jsonschema's vendored copy) and its security
# (zizmor, offline, auditor persona); and a broken copy for each, which it must reject.
lint_workflow() {
    local workflow=.github/workflows/ci.yml broken
    "$repo/.venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$workflow" >/dev/null || return 1
    "$repo/.venv/bin/zizmor" --offline --persona=auditor --quiet .github/workflows || return 1
    broken=$(mktemp -d)
    mkdir -p "$broken/schema/.github/workflows" "$broken/zizmor/.github/workflows"
    sed 's/^    runs-on:/    runs_on:/' "$workflow" >"$broken/schema/.github/workflows/ci.yml"
    sed 's|actions/checkout@[0-9a-f]*|actions/checkout@v4|' "$workflow" >"$broken/zizmor/.github/workflows/ci.yml"
    local status=0
    if "$repo/.venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows \
        "$broken/schema/.github/workflows/ci.yml" >/dev/null 2>&1; then
        echo "test.sh: check-jsonschema accepted a workflow with a misspelt key" >&2
        status=1
    fi
    if "$repo/.venv/bin/zizmor" --offline --persona=auditor --quiet "$broken/zizmor/.github/workflows" \
        >/dev/null 2>&1; then
        echo "test.sh: zizmor accepted a workflow with an unpinned action" >&2
        status=1
    fi
    rm -rf "$broken"
    [ "$status" -eq 0 ] && echo "test.sh: workflow lint ok (and broken copies were rejected)" >&2
    return "$status"
}

run_tier() {
    case $1 in
        lint)
            # Chained: `set -e` does not apply inside a function called from `if`.
            "$py" -m ruff check ci tests tools build.py &&
                "$py" -m ruff format --check ci tests tools build.py &&
                "$py" -m mypy &&
                shellcheck runtime_functions.sh ci/buildsystems/*.sh scripts/*.sh docker/install/* .ci/run &&
                lint_jenkinsfile &&
                lint_workflow
            ;;
        unit) pytest_tier tests/unit -q ;;
        engine) engine_tier ;;
        *) echo "test.sh: unknown tier '$1' (lint, unit, engine)" >&2; return 2 ;;
    esac
}

case " ${tiers[*]} " in
    *" engine "*) start_cache_registry && start_lane ;;
esac
failed=0
for tier in "${tiers[@]}"; do
    t0=$(date +%s)
    echo "=== tier $tier" >&2
    if run_tier "$tier"; then
        summary+=("$tier ok $(($(date +%s) - t0)) s")
    else
        summary+=("$tier FAILED $(($(date +%s) - t0)) s")
        failed=1
    fi
done
echo "=== tiers: ${summary[*]/%/;} total $(($(date +%s) - start)) s" >&2
exit "$failed"
