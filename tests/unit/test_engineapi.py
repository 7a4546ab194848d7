"""The Engine API client's pure parts: the attach stream's framing, URLs, error messages."""

from __future__ import annotations

import io
import struct

import pytest

from ci.engine import api
from ci.engine.api import STDERR, STDOUT, EngineApi, TransportError


class Trickle(io.BufferedReader):
    """A stream that hands out at most 3 bytes per read, as a socket may."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(3, size if size and size > 0 else 3))

    def read1(self, size: int = -1) -> bytes:
        return super().read1(min(3, size if size > 0 else 3))


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + struct.pack(">I", len(data)) + data


def test_multiplexed_frames_are_split_by_stream_even_when_reads_come_short() -> None:
    raw = Trickle(io.BytesIO(frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"x" * 70000)))
    got = list(api._frames(raw, tty=False))
    assert got == [(STDOUT, b"out\n"), (STDERR, b"err\n"), (STDOUT, b"x" * 70000)]


def test_a_tty_stream_is_passed_through_as_stdout() -> None:
    raw = Trickle(io.BytesIO(b"\x01\x00raw bytes"))
    got = b"".join(chunk for stream, chunk in api._frames(raw, tty=True) if stream == STDOUT)
    assert got == b"\x01\x00raw bytes"


@pytest.mark.parametrize("cut", [3, 1, 9, 13])
def test_a_stream_cut_off_anywhere_ends_with_what_came(cut: int) -> None:
    """The engine or an ssh bridge gone mid-frame, in its payload or in the next header."""
    whole = frame(1, b"complete") + frame(2, b"cut off")
    got = list(api._frames(io.BufferedReader(io.BytesIO(whole[:-cut])), tty=False))
    came = 7 - cut  # of the second frame's 7 payload bytes; below 0 its header was cut
    assert got == [(STDOUT, b"complete")] + ([(STDERR, b"cut off"[:came])] if came > 0 else [])


def test_reading_a_closed_stream_is_a_transport_error() -> None:
    raw = io.BufferedReader(io.BytesIO(frame(1, b"x")))
    raw.close()
    with pytest.raises(TransportError):
        list(api._frames(raw, tty=False))


@pytest.mark.parametrize(
    ("data", "want"),
    [(b'{"message":"No such container: x"}\n', "No such container: x"), (b"plain words\n", "plain words")],
)
def test_the_engines_error_message(data: bytes, want: str) -> None:
    assert api._message(data) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [(True, "1"), (False, "0"), ({"label": ["a=b"]}, '{"label": ["a=b"]}'), ("x", "x"), (3, "3")],
)
def test_query_words(value: object, want: str) -> None:
    assert api._word(value) == want


def test_urls() -> None:
    assert EngineApi("")._unix == "/var/run/docker.sock"
    assert EngineApi("unix:///run/podman/podman.sock")._unix == "/run/podman/podman.sock"
    tcp = EngineApi("tcp://10.0.0.2:2376")
    assert (tcp._unix, tcp._host, tcp._port) == (None, "10.0.0.2", 2376)
    assert EngineApi("tcp://builder")._port == 2375
    with pytest.raises(TransportError, match="unsupported engine URL"):
        EngineApi("npipe:////./pipe/docker_engine")
