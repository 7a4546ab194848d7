"""Decide the CI job matrix (`--list-json`): one entry per platform (and variant) with the runner it goes to,
chosen from the platform's declared target architecture, and the way it builds there. Pure."""

from __future__ import annotations

import json

from ci.planning import ways
from ci.planning.platforms import Platform

DEFAULT_RUNNER = "ubuntu-24.04"
# Architecture (of the target's Docker platform) -> runner label with native hardware for it.
NATIVE_RUNNERS = {"arm64": "ubuntu-24.04-arm", "arm": "ubuntu-24.04-arm"}
# Runner label -> the Docker platform of its machine.
RUNNER_PLATFORMS = {DEFAULT_RUNNER: "linux/amd64", "ubuntu-24.04-arm": "linux/arm64"}


def runner_for(target: str) -> str:
    """linux/arm64 and linux/arm/v7 binaries go to native arm64 runners; the rest to x86-64."""
    parts = target.split("/")
    return NATIVE_RUNNERS.get(parts[1] if len(parts) > 1 else "", DEFAULT_RUNNER)


def entry(platform: Platform) -> dict[str, object]:
    """{"platform", "runner", "way" (how it builds on that runner's machine), "release"}."""
    runner = runner_for(platform.target)
    machine = RUNNER_PLATFORMS[runner]
    way = ways.way(ways.on_engine(platform, machine), machine)
    return {"platform": platform.name, "runner": runner, "way": way, "release": platform.release}


def matrix_json(platforms: list[Platform], variants: tuple[str, ...] = ("",)) -> str:
    """A GitHub Actions `strategy.matrix` value: {"include": [entry, ...]} (release: whether
    --release pushes the platform's image, from its ci.release), an entry per platform and
    variant (its "variant": what `--variant` runs that job) where the run has variants."""
    entries = [entry(p) | ({"variant": v} if v else {}) for p in platforms for v in variants]
    return json.dumps({"include": entries}, separators=(",", ":"))
