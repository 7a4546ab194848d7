"""Why a remote storage failed, read from ccache's own log: the lines are ccache 4.11.2's, taken
from its CCACHE_LOGFILE against a real redis-server (no password sent, a wrong one, a port
nothing listens on, a server that never answers) and a real HTTP server."""

from __future__ import annotations

import pytest

from ci.output import ccachelog

LOG = """\
[2026-11-27T11:54:27.060210 8    ] Config: (environment) remote_storage = redis://********@172.17.0.1:16390
[2026-11-27T11:54:27.061119 8    ] Redis connecting to 172.17.0.1:16390 (connect timeout 100 ms)
[2026-11-27T11:54:27.062208 8    ] Redis connection OK
[2026-11-27T11:54:27.062218 8    ] Redis GET ccache:0ab0je1ljpm5u4k5bvjks74js95gm3hdi
[2026-11-27T11:54:27.062455 8    ] Redis command failed: NOAUTH Authentication required.
[2026-11-27T11:54:27.089447 8    ] Not getting from redis://********@172.17.0.1:16390 since it failed earlier
[2026-11-27T11:54:27.127437 8    ] Result: remote_storage_error
[2026-11-27T11:54:28.062455 9    ] Redis command failed: NOAUTH Authentication required.
[2026-11-27T11:54:29.329207 10   ] Redis command failed: WRONGPASS invalid username-password pair or user \
is disabled.
[2026-11-27T11:54:29.329360 10   ] Failed to construct backend for redis://********@172.17.0.1:16390
"""


@pytest.mark.parametrize(
    ("line", "cause", "shown"),
    [
        ("Redis command failed: NOAUTH Authentication required.", "authentication", None),
        (
            "Redis command failed: WRONGPASS invalid username-password pair or user is disabled.",
            "authentication",
            None,
        ),
        (
            "Failed to construct backend for redis://172.17.0.1:16391: Redis connection error: "
            "Connection refused",
            "connection refused",
            "Redis connection error: Connection refused",
        ),
        (
            "Failed to construct backend for redis://172.17.250.250:6379: Redis connection error: "
            "Connection timed out",
            "timed out",
            "Redis connection error: Connection timed out",
        ),
        ("Redis command failed: Resource temporarily unavailable", "timed out", None),
        (
            "Failed to get /c/26/8cqe611b1ebascoj76jkrjka2v09tli from http storage: Could not "
            "establish connection (2)",
            "connection refused",
            "Could not establish connection (2)",
        ),
        (
            "Failed to put /c/87/e4k1mm91of24a2r95rm7lsmjb6gokm0 to http storage: status code: 401",
            "authentication",
            "status code: 401",
        ),
        (
            "Failed to get /c/ac/03jj3eiob71jhhd8s8jlng0vm6riacq from http storage: Connection timed "
            "out (14)",
            "timed out",
            "Connection timed out (14)",
        ),
        ("Redis command failed: ERR unknown command 'GET'", "other", None),
    ],
)
def test_each_error_line_has_its_cause(line: str, cause: str, shown: str | None) -> None:
    (message,) = ccachelog.error_messages([f"[2026-11-27T11:55:07.666956 8    ] {line}\n"])
    assert message == (shown or line)
    assert ccachelog.cause_of(message).name == cause


def test_lines_that_are_not_a_remote_failure_are_left_alone() -> None:
    lines = [
        "[t 8 ] Failed to construct backend for redis://********@172.17.0.1:16390",  # follows the real one
        "[t 8 ] Not getting from redis://172.17.0.1:16391 since it failed earlier",
        "[t 8 ] Redis connection OK",
        "[t 8 ] Result: remote_storage_error",
        "[t 8 ] No 3403bjskmjut7gmb21aok2d22p2eo7v4s in local storage",
        "Redis command failed: NOAUTH (not a log line)",
    ]
    assert ccachelog.error_messages(lines) == []


def test_reasons_are_counted_most_frequent_first() -> None:
    reasons = ccachelog.reasons(LOG.splitlines(keepends=True))
    assert [(r.cause.name, r.count) for r in reasons] == [("authentication", 2), ("authentication", 1)]
    assert reasons[0].message == "Redis command failed: NOAUTH Authentication required."
    assert "password" in reasons[0].cause.hint and "WRONGPASS" in reasons[1].message
    assert reasons[0].cause.hint != reasons[1].cause.hint  # none sent, or a wrong one
    assert ccachelog.reasons([]) == ()


def test_user_info_never_shows_and_long_messages_are_cut() -> None:
    line = "[t 8 ] Failed to construct backend for redis://x@h:1: Redis connection error: "
    line += "redis://u:hunter2@h:1 "
    (message,) = ccachelog.error_messages([line + "x" * 500])
    assert "hunter2" not in message and "redis://***@h:1" in message
    assert len(message) == ccachelog.SHOWN_CHARS
