"""Rules the whole suite follows (loaded by tests/conftest.py as a plugin): under CI a skip fails
the run unless it says it lacks a GPU; tests marked `early` run first, `last` after every other."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping, Sequence
from typing import NoReturn, Protocol, TypeVar

import pytest

GPU_SKIP = "NO GPU"  # the one skip reason allowed under CI: this machine has no GPU


def skip_no_gpu(reason: str) -> NoReturn:
    """Skip the test because no GPU is here: the one skip CI accepts."""
    __tracebackhide__ = True  # the skip is reported at the test's line, not here
    pytest.skip(f"{GPU_SKIP}: {reason}")


def under_ci(env: Mapping[str, str]) -> bool:
    """CI=true (or 1, yes), as CI systems set it."""
    return env.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skipped report gives ("Skipped: " left off)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def fail_skip_under_ci(report: pytest.TestReport | pytest.CollectReport, env: Mapping[str, str]) -> None:
    """Under CI, turn a skip whose reason is not GPU_SKIP into a failure that still names it."""
    if not report.skipped or hasattr(report, "wasxfail") or not under_ci(env):
        return
    reason = skip_reason(report)
    if reason.startswith(GPU_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"SKIPPED UNDER CI, which fails the run (only a '{GPU_SKIP}' skip may pass there): {reason}"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    fail_skip_under_ci(report, os.environ)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report() -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    fail_skip_under_ci(report, os.environ)
    return report


class Marked(Protocol):
    def get_closest_marker(self, name: str) -> pytest.Mark | None: ...


M = TypeVar("M", bound=Marked)


def early_first_last_at_the_end(items: Sequence[M]) -> list[M]:
    """The items in their order, those marked `early` moved to the front (`early(first=True)`
    before the other early ones: the head of the longest chain) and those marked `last` to the
    end (each kept in its own order)."""

    def rank(item: M) -> int:
        if item.get_closest_marker("last") is not None:
            return 3
        early = item.get_closest_marker("early")
        if early is None:
            return 2
        return 0 if early.kwargs.get("first") else 1

    return sorted(items, key=rank)
