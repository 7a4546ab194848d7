"""Decide how many tests run at a time (pure): --test-jobs; else, where they run under QEMU (a
core each: one at a time leaves the rest idle), as many as the build's jobs, each failure then
run again alone before it counts (a test that passes alone is reported as failing with others:
the project learns its tests race); else as the project's own test command runs them."""

from __future__ import annotations


def env(asked: int | None, *, emulated: bool, jobs: int) -> dict[str, str]:
    """CI_TEST_JOBS ('': the project's own way) and CI_RERUN_ALONE for runtime_functions.sh."""
    alone = asked is None and emulated and jobs > 1
    chosen = asked if asked is not None else jobs if alone else None
    return {"CI_TEST_JOBS": str(chosen or ""), "CI_RERUN_ALONE": "1" if alone else "0"}
