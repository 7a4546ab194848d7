"""Several platforms at once: prefixed whole lines, outcomes in order, --fail-fast."""

from __future__ import annotations

import threading

import pytest

from ci.engine.client import Output
from ci.output.outcomes import Outcome
from ci.running.containers import LiveContainers
from ci.running.multirun import PrefixedOutput, run_all


def test_prefixed_output_writes_whole_lines_with_the_prefix(
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    out = PrefixedOutput("[armv7] ")
    out(b"first li", False)
    out(b"ne\nsecond\nthi", False)
    out(b"oops\n", True)
    out.flush()
    captured = capfdbinary.readouterr()
    assert captured.out == b"[armv7] first line\n[armv7] second\n[armv7] thi\n"
    assert captured.err == b"[armv7] oops\n"


def make_work(name: str, status: int, gate: threading.Event | None = None):  # type: ignore[no-untyped-def]
    def work(output: Output) -> Outcome:
        if gate is not None:
            gate.wait(5)
        output(f"{name} says hi\n".encode(), False)
        return Outcome(platform=name, status=status, seconds=0.0)

    return work


def test_run_all_keeps_order_and_does_not_stop_on_failure() -> None:
    works = [("a", make_work("a", 0)), ("b", make_work("b", 2)), ("c", make_work("c", 0))]
    outcomes = run_all(works, parallel=2, fail_fast=False, live=LiveContainers())
    assert [(o.platform, o.status) for o in outcomes] == [("a", 0), ("b", 2), ("c", 0)]


def test_fail_fast_skips_what_has_not_started() -> None:
    works = [("bad", make_work("bad", 1)), ("later", make_work("later", 0))]
    live = LiveContainers()
    outcomes = run_all(works, parallel=1, fail_fast=True, live=live)
    assert outcomes[0].status == 1
    assert outcomes[1].status != 0 and "fail-fast" in outcomes[1].error
    assert outcomes[0].ran and not outcomes[1].ran  # the failure report skips what never started
    assert live.closed  # no container may start after a fail-fast stop


def test_an_exception_in_one_platform_becomes_its_outcome() -> None:
    def broken(output: Output) -> Outcome:
        raise RuntimeError("boom")

    outcomes = run_all(
        [("x", broken), ("y", make_work("y", 0))], parallel=2, fail_fast=False, live=LiveContainers()
    )
    assert outcomes[0].status != 0 and "boom" in outcomes[0].error
    assert outcomes[1].status == 0


def test_under_the_board_nothing_is_printed(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    outcomes = run_all(
        [("a", make_work("a", 0)), ("b", make_work("b", 0))],
        parallel=2, fail_fast=False, live=LiveContainers(), prefixed=False,
    )  # fmt: skip
    assert [o.status for o in outcomes] == [0, 0]
    assert capfdbinary.readouterr().out == b""
