"""Plain helpers the unit tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ci.planning.platforms import Platform
from ci.planning.runspec import ImageRef, RunInputs


def inputs(**changes: object) -> RunInputs:
    base = RunInputs(
        platform=Platform(name="armv7", dockerfile=Path("/d/Dockerfile.build.armv7"), target="linux/arm/v7"),
        image=ImageRef(repository="ciharness/armv7", tag="0123456789abcdef"),
        command=("/work/runtime_functions.sh", "build_generic"),
        source_dir=Path("/home/u/src"),
        build_dir=Path("/home/u/build"),
        ccache_dir=Path("/home/u/.cache/ccache"),
        runtime_functions=Path("/repo/runtime_functions.sh"),
        user_env={},
        uid=1234,
        gid=5678,
        run_id="abc123def456",
        owner_pid=4242,
        owner_start=1700000000.123456,
        jobs=6,
        owner_host="host1",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
