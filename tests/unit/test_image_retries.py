"""Transient image-build failures are retried with doubling delays; others fail at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ci.errors import ImageBuildError
from ci.images.retries import is_transient, with_retries

TRANSIENT = "E: Failed to fetch http://deb.debian.org/debian/pool/main/c/cmake.deb  Connection reset by peer"
PERMANENT = "The command '/bin/sh -c make' returned a non-zero code: 2"


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("Temporary failure resolving 'deb.debian.org'", True),
        ("Could not connect to deb.debian.org:80", True),
        ("E: Failed to fetch http://x/y.deb", True),
        ("Hash Sum mismatch", True),
        ("503  Service Unavailable", True),
        ("net/http: TLS handshake timeout", True),
        ("dial tcp: i/o timeout", True),
        (TRANSIENT, True),
        (PERMANENT, False),
        ("E: Unable to locate package cmake3", False),
        ("failed to fetch", False),  # markers are case-sensitive, as apt prints them
        ("", False),
    ],
)
def test_is_transient(message: str, transient: bool) -> None:
    assert is_transient(message) is transient


class Flaky:
    """An action that fails with the given messages, then succeeds."""

    def __init__(self, *failures: str) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.failures:
            raise ImageBuildError(self.failures.pop(0), hint="original hint")


@pytest.fixture
def sleeps() -> list[float]:
    return []


def fake_sleep(sleeps: list[float]) -> Callable[[float], None]:
    return sleeps.append


def test_success_first_time_does_not_sleep(sleeps: list[float]) -> None:
    action = Flaky()
    with_retries(action, attempts=3, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 1
    assert sleeps == []


def test_transient_failures_are_retried_with_doubling_delays(sleeps: list[float]) -> None:
    action = Flaky(TRANSIENT, TRANSIENT, TRANSIENT)
    with_retries(action, attempts=4, delay=1.5, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 4
    assert sleeps == [1.5, 3.0, 6.0]


def test_gives_up_after_the_last_attempt_and_says_so(sleeps: list[float]) -> None:
    action = Flaky(TRANSIENT, TRANSIENT, TRANSIENT, TRANSIENT)
    with pytest.raises(ImageBuildError) as info:
        with_retries(action, attempts=3, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 3
    assert sleeps == [2.0, 4.0]  # no sleep after the last attempt
    assert TRANSIENT in info.value.message
    assert "gave up after 3 attempts" in info.value.message
    assert "run again later" in info.value.hint
    assert isinstance(info.value.__cause__, ImageBuildError)


def test_one_attempt_means_no_retry(sleeps: list[float]) -> None:
    action = Flaky(TRANSIENT)
    with pytest.raises(ImageBuildError, match="gave up after 1 attempts"):
        with_retries(action, attempts=1, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 1
    assert sleeps == []


def test_non_transient_failure_is_raised_at_once(sleeps: list[float]) -> None:
    action = Flaky(PERMANENT)
    with pytest.raises(ImageBuildError) as info:
        with_retries(action, attempts=5, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 1
    assert sleeps == []
    assert info.value.message == PERMANENT  # the original error, unchanged
    assert info.value.hint == "original hint"


def test_non_transient_after_a_transient_one_stops_retrying(sleeps: list[float]) -> None:
    action = Flaky(TRANSIENT, PERMANENT, TRANSIENT)
    with pytest.raises(ImageBuildError) as info:
        with_retries(action, attempts=5, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert action.calls == 2
    assert sleeps == [2.0]
    assert info.value.message == PERMANENT


def test_other_exceptions_are_not_retried(sleeps: list[float]) -> None:
    calls = 0

    def action() -> None:
        nonlocal calls
        calls += 1
        raise OSError("Connection reset by peer")

    with pytest.raises(OSError, match="Connection reset"):
        with_retries(action, attempts=3, delay=2.0, what="building x", sleep=fake_sleep(sleeps))
    assert calls == 1
    assert sleeps == []


def test_a_build_stream_cut_mid_way_is_a_lost_engine_retried_not_an_internal_error() -> None:
    """podman's service under load ended a build's stream with urllib3's ProtocolError
    ("Connection broken: IncompleteRead"), unwrapped by requests: exit 99 before."""
    import urllib3.exceptions

    from ci.engine import sdk

    class Api:
        def build(self, **_: object) -> object:
            yield {"stream": "Successfully tagged x\n"}
            raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read)")

    class Client:
        api = Api()

    with pytest.raises(ImageBuildError, match="lost the engine") as caught:
        sdk.build(Client, context=Path("/tmp"), dockerfile="D", tag="t", platform="linux/amd64",  # type: ignore[arg-type]
                  labels={}, no_cache=False, output=lambda chunk, err: None)  # fmt: skip
    assert is_transient(caught.value.message)
