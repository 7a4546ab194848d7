"""Do: speak the Docker Engine API over HTTP (a unix socket, TCP, or TCP with TLS) with the
standard library alone.

ci.engine.client makes every run's calls through this (ping, list, inspect, create, attach, start,
wait, remove, archives, volumes); importing the Docker SDK costs a run more than all of them
together, so the SDK is imported only for builds, pulls and pushes. Paths are unversioned: the
engine answers in its own API version, which is what the calls here are written against
(Docker 20.10's 1.41 and podman's compatible service).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import struct
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from ci.planning.endpoints import Tls

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
STDOUT, STDERR = 1, 2  # the stream ids of an attached container's multiplexed output
CHUNK = 64 * 1024


class ApiError(Exception):
    """The engine answered with an error status; message is what it said."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


class TransportError(Exception):
    """The engine could not be reached, or the connection broke."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def tls_context(tls: Tls) -> ssl.SSLContext:
    """Mutual TLS as the docker CLI does it: the engine's CA (or the system's), our cert and key."""
    if tls.verify:
        context = ssl.create_default_context(cafile=tls.ca)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert and tls.key:
        context.load_cert_chain(tls.cert, tls.key)
    return context


class EngineApi:
    """One engine's API. Thread-safe: every call opens its own connection (a unix socket's
    connect costs microseconds; keep-alive would need a lock per connection)."""

    def __init__(self, url: str, tls: Tls | None = None, timeout: float | None = None) -> None:
        parts = urllib.parse.urlsplit(url or DEFAULT_SOCKET)
        if parts.scheme == "unix":
            self._unix: str | None = parts.path
            self._host, self._port = "", 0
        elif parts.scheme in ("tcp", "http", "https"):
            self._unix = None
            self._host = parts.hostname or "localhost"
            self._port = parts.port or (2376 if tls else 2375)
        else:
            raise TransportError(f"unsupported engine URL {url!r} (unix:// or tcp://)")
        self._tls = tls_context(tls) if tls is not None else None
        self.timeout = timeout  # None once connected: builds and runs take hours

    def _connection(self) -> http.client.HTTPConnection:
        if self._unix is not None:
            return _UnixConnection(self._unix, self.timeout)
        if self._tls is not None:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._tls
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def open(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send one request; the connection and its response, whose status is a success."""
        query = urllib.parse.urlencode({k: _word(v) for k, v in (params or {}).items() if v is not None})
        target = urllib.parse.quote(path, safe="/:@") + (f"?{query}" if query else "")
        conn = self._connection()
        try:
            conn.request(method, target, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise TransportError(str(exc) or type(exc).__name__) from exc
        if response.status >= 400:
            try:
                message = _message(response.read())
            except (OSError, http.client.HTTPException):
                message = response.reason
            finally:
                conn.close()
            raise ApiError(response.status, message)
        return conn, response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; its answer decoded when it is JSON, else None (start, tag, put archive)."""
        conn, response = self.open(method, path, **kwargs)
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
        finally:
            conn.close()
        if "json" not in (response.getheader("Content-Type") or ""):
            return None
        try:
            return json.loads(data) if data.strip() else None
        except ValueError as exc:
            raise TransportError(f"the engine's answer to {method} {path} is not JSON: {exc}") from exc

    def post_json(self, path: str, payload: object, params: Mapping[str, object] | None = None) -> Any:
        body = json.dumps(payload).encode()
        return self.call("POST", path, params=params, body=body, headers={"Content-Type": "application/json"})

    # -- the calls ---------------------------------------------------------------------------

    def ping(self) -> None:
        self.call("GET", "/_ping")

    def attach(self, container_id: str, *, tty: bool) -> Attached:
        """The container's output from its start to its end: the request is made here, before the
        container is started, so nothing is missed. Its stream only, as `docker run` attaches:
        with the logs as well, the engine replays its log and then follows the stream, and a line
        written in between came twice (dockerd 20.10, a short container on a loaded machine)."""
        conn, response = self.open(
            "POST",
            f"/containers/{container_id}/attach",
            params={"logs": False, "stream": True, "stdout": True, "stderr": True},
            headers={"Connection": "Upgrade", "Upgrade": "tcp"},
        )
        return Attached(conn, response, tty)


class Attached:
    """An attached container's output as (stream, bytes), read from the hijacked connection;
    close() releases it whether or not it was read (use it as a context manager)."""

    def __init__(
        self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, tty: bool
    ) -> None:
        # A 101 answer (Docker) leaves http.client nothing to read through the response object:
        # the connection's bytes follow the headers in its buffered file. Both are kept here, so
        # the file stays open whether the engine answered 101 or 200.
        self._conn, self._response, self._tty = conn, response, tty

    def __enter__(self) -> Attached:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._response.close()
        self._conn.close()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return _frames(self._response.fp, self._tty)


def _frames(raw: Any, tty: bool) -> Iterator[tuple[int, bytes]]:
    try:
        if tty:
            while chunk := raw.read1(CHUNK):
                yield STDOUT, chunk
            return
        while len(header := _read_exactly(raw, 8)) == 8:  # a header cut short ends the stream
            stream, size = header[0], struct.unpack(">I", header[4:])[0]
            payload = _read_exactly(raw, size)
            if payload:
                yield (STDERR if stream == STDERR else STDOUT), payload
    except (OSError, ValueError, http.client.HTTPException) as exc:  # ValueError: a closed file
        raise TransportError(str(exc) or type(exc).__name__) from exc


def _read_exactly(raw: Any, size: int) -> bytes:
    """size bytes, or fewer at the end of the stream."""
    parts: list[bytes] = []
    while size > 0:
        part = raw.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def short(text: str) -> str:
    """An engine's message on one line."""
    return " ".join(text.split())[:500]


def _word(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _message(data: bytes) -> str:
    try:
        found = json.loads(data)
    except ValueError:
        return data.decode(errors="replace").strip()
    return str(found.get("message", found)) if isinstance(found, dict) else str(found)
