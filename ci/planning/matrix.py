"""Decide the CI job matrix (`--list-json`): one entry per platform with the runner it goes to,
chosen from the platform's declared target architecture. Pure."""

from __future__ import annotations

import json

from ci.planning.platforms import Platform

DEFAULT_RUNNER = "ubuntu-24.04"
# Architecture (of the target's Docker platform) -> runner label with native hardware for it.
NATIVE_RUNNERS = {"arm64": "ubuntu-24.04-arm", "arm": "ubuntu-24.04-arm"}


def runner_for(target: str) -> str:
    """linux/arm64 and linux/arm/v7 binaries go to native arm64 runners; the rest to x86-64."""
    parts = target.split("/")
    return NATIVE_RUNNERS.get(parts[1] if len(parts) > 1 else "", DEFAULT_RUNNER)


def matrix_json(platforms: list[Platform]) -> str:
    """A GitHub Actions `strategy.matrix` value: {"include": [{"platform", "runner", "release"}, ...]}
    (release: whether --release pushes the platform's image, from its ci.release)."""
    include = [{"platform": p.name, "runner": runner_for(p.target), "release": p.release} for p in platforms]
    return json.dumps({"include": include}, separators=(",", ":"))
