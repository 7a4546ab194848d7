"""Do: an image build again after a transient failure (a mirror, the network, a lost engine),
with doubling delays, and one clear error when it keeps failing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ci.errors import ImageBuildError

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_MARKERS = (
    "Temporary failure resolving",
    "Could not connect to",
    "Connection timed out",
    "Connection reset by peer",
    "Hash Sum mismatch",
    "503  Service Unavailable",
    "502  Bad Gateway",
    "Failed to fetch",
    "TLS handshake timeout",
    "i/o timeout",
    "lost the engine",
)


def is_transient(message: str) -> bool:
    return any(marker in message for marker in TRANSIENT_MARKERS)


def with_retries(
    action: Callable[[], T],
    *,
    attempts: int,
    delay: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run action; retry transient ImageBuildErrors with doubling delays, then report clearly."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ImageBuildError as exc:
            if not is_transient(exc.message):
                raise
            if attempt == attempts:
                raise ImageBuildError(
                    f"{exc.message} (transient failure, gave up after {attempts} attempts)",
                    hint="the network or a mirror is failing; run again later",
                ) from exc
            log.warning(
                "%s failed with a transient error, retrying in %.0f s (%d/%d)", what, delay, attempt, attempts
            )
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")
