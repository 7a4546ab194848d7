"""Decide why ccache's remote storage failed, from ccache's own log (CCACHE_LOGFILE, which
build.py points into the build dir when a remote storage is set): its error lines, each with
its cause and what to do about it. Pure: log text in, reasons out."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable

# ccache 4.11's lines for a remote storage that failed, one per compilation (after the first
# failure a compilation leaves that storage alone: "... since it failed earlier"), e.g.
#   Redis command failed: NOAUTH Authentication required.
#   Redis command failed: WRONGPASS invalid username-password pair or user is disabled.
#   Redis command failed: Resource temporarily unavailable        (operation timeout)
#   Failed to construct backend for redis://H:P: Redis connection error: Connection refused
#   Failed to get /c/ab/KEY from http storage: Could not establish connection (2)
#   Failed to put /c/ab/KEY to http storage: status code: 401
# ("Failed to construct backend for URL" alone follows a "Redis command failed" line.)
_LINE_RE = re.compile(r"^\[[^\]]*\]\s?(?P<message>.*)$")
_ERROR_RE = re.compile(
    r"^(?:Redis command failed: |Redis connection error: |Failed to construct backend for \S+: "
    r"|Failed to \w+ \S+ (?:from|to|in) \S+(?: storage)?: )"
)
_SHOWN_PREFIX_RE = re.compile(
    r"^Failed to (?:construct backend for|\w+ \S+ (?:from|to|in)) \S+(?: storage)?: "
)
_USERINFO_RE = re.compile(r"://[^/@\s]*@")
SHOWN_CHARS = 160


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cause:
    name: str  # "authentication", "connection refused", ...: what the warning says
    pattern: re.Pattern[str]  # searched in ccache's error message
    hint: str


CAUSES: tuple[Cause, ...] = (
    Cause(
        name="authentication",
        pattern=re.compile(r"NOAUTH", re.IGNORECASE),
        hint=(
            "the server wants a password and ccache sent none: put it in the URL, "
            "redis://PASSWORD@HOST:PORT or redis://USER:PASSWORD@HOST:PORT"
        ),
    ),
    Cause(
        name="authentication",
        pattern=re.compile(r"WRONGPASS|invalid password|invalid username|auth\w* failed", re.IGNORECASE),
        hint="the server refused the URL's password (or user): check it against the server's",
    ),
    Cause(
        name="authentication",
        pattern=re.compile(r"status code: 40[13]\b"),
        hint="the HTTP server refused the credentials: check the URL's USER:PASSWORD@ or its bearer-token",
    ),
    Cause(
        name="connection refused",
        pattern=re.compile(r"Connection refused|Could not establish connection", re.IGNORECASE),
        hint=(
            "nothing listens at that address and port: check that the server runs there and is bound "
            "to an address this engine's containers reach (not 127.0.0.1)"
        ),
    ),
    Cause(
        name="timed out",
        pattern=re.compile(r"timed out|timeout|Resource temporarily unavailable", re.IGNORECASE),
        hint=(
            "the server did not answer in time: check that the address is the server's and that the "
            "containers reach it, or allow more with |connect-timeout=MS|operation-timeout=MS"
        ),
    ),
    Cause(
        name="unreachable",
        pattern=re.compile(r"No route to host|unreachable|name resolution|not known|resolve", re.IGNORECASE),
        hint="this engine's containers cannot reach that host: check its name or address from a container",
    ),
)
OTHER = Cause(
    name="other",
    pattern=re.compile(""),
    hint="ccache's log in the build dir has the details",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reason:
    """One kind of failure: its cause, ccache's own words (passwords hidden) and how many lines."""

    cause: Cause
    message: str
    count: int


def error_messages(lines: Iterable[str]) -> list[str]:
    """ccache's remote-storage error messages in its log lines, as they are to be shown: without
    the storage's key or URL (user info hidden all the same), cut to SHOWN_CHARS."""
    found = []
    for line in lines:
        match = _LINE_RE.match(line.rstrip("\n"))
        message = match["message"] if match else ""
        if _ERROR_RE.match(message):
            shown = _USERINFO_RE.sub("://***@", _SHOWN_PREFIX_RE.sub("", message)).strip()
            found.append(shown[:SHOWN_CHARS])
    return found


def cause_of(message: str) -> Cause:
    return next((c for c in CAUSES if c.pattern.search(message)), OTHER)


def reasons(lines: Iterable[str]) -> tuple[Reason, ...]:
    """The failures in ccache's log, most frequent first (then in the order they came)."""
    counted = Counter(error_messages(lines))
    ordered = sorted(counted.items(), key=lambda item: -item[1])  # stable: first seen first on ties
    return tuple(Reason(cause=cause_of(m), message=m, count=n) for m, n in ordered)
