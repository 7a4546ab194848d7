"""A loopback front for this machine's dockerd that says the engine runs on arm64, so that an
x86-64 machine can try the way an arm64 node builds: `build.py --docker-host arm64=tcp://...`
through it sees a remote arm64 engine, builds arm64 images there and runs them (the host's
qemu-user, through binfmt_misc, stands in for arm64 hardware).

Every connection is passed to /var/run/docker.sock byte for byte, one request a connection
(`Connection: close` upstream; a `Connection: Upgrade` request keeps its header and stays a
two-way pipe: attach, exec). Only two answers are changed: `GET /info` says Architecture
aarch64 and `GET /version` Arch arm64 (any /vX.Y prefix), read whole and sent with their own
Content-Length. Used by tests/integration and tools/bench.py; plain TCP, loopback only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

UPSTREAM = "/var/run/docker.sock"
BUFFER = 64 * 1024
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 1 << 20
REWRITTEN = re.compile(rb"GET (?:/v[0-9.]+)?/(info|version)(?:\?\S*)? HTTP/1\.[01]")
HOP_BY_HOP = (b"connection", b"keep-alive")
DROPPED_IN_ANSWER = ("content-length", "transfer-encoding", "connection", "keep-alive")


def as_arm64(endpoint: str, body: bytes) -> bytes:
    """The JSON answer of /info or /version, as an arm64 engine would give it."""
    data: dict[str, Any] = json.loads(body)
    if endpoint == "info":
        data["Architecture"] = "aarch64"
    else:
        data["Arch"] = "arm64"
        for component in data.get("Components") or []:
            details = component.get("Details")
            if isinstance(details, dict) and "Arch" in details:
                details["Arch"] = "arm64"
    return json.dumps(data).encode() + b"\n"


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """A request's head (up to the blank line) and whatever of its body came with it; (b"", b"")
    when the client closed first."""
    data = b""
    while HEAD_END not in data:
        chunk = sock.recv(BUFFER)
        if not chunk or len(data) > MAX_HEAD:
            return b"", b""
        data += chunk
    head, _, rest = data.partition(HEAD_END)
    return head, rest


def upstream_head(head: bytes) -> tuple[bytes, bool]:
    """The head sent to dockerd, and whether the request upgrades the connection (hijack)."""
    first, *fields = head.split(b"\r\n")
    named = [(f.split(b":", 1)[0].strip().lower(), f) for f in fields]
    upgrade = any(n == b"connection" and b"upgrade" in f.lower() for n, f in named)
    if not upgrade:
        fields = [f for n, f in named if n not in HOP_BY_HOP] + [b"Connection: close"]
    return b"\r\n".join([first, *fields]) + HEAD_END, upgrade


def copy(source: socket.socket, target: socket.socket) -> None:
    """Bytes from source to target until source ends; then target's writing side is shut."""
    with contextlib.suppress(OSError):
        while chunk := source.recv(BUFFER):
            target.sendall(chunk)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def pipe(client: socket.socket, upstream: socket.socket, *, hijacked: bool) -> None:
    """Both ways until both ends are done; a plain request's exchange ends with dockerd's answer."""
    inbound = threading.Thread(target=copy, args=(client, upstream), daemon=True)
    inbound.start()
    copy(upstream, client)
    if not hijacked:  # the answer is whole: nothing more the client sends is for this request
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
    inbound.join()


def answer_as_arm64(client: socket.socket, upstream: socket.socket, endpoint: str) -> None:
    """dockerd's answer read whole (chunked or not), its JSON made arm64's, sent with its length."""
    response = http.client.HTTPResponse(upstream)  # reads through upstream.makefile()
    response.begin()
    body = response.read()
    if response.status == 200:
        with contextlib.suppress(ValueError):
            body = as_arm64(endpoint, body)
    fields = [f"{k}: {v}" for k, v in response.getheaders() if k.lower() not in DROPPED_IN_ANSWER]
    fields += [f"Content-Length: {len(body)}", "Connection: close"]
    head = "\r\n".join([f"HTTP/1.1 {response.status} {response.reason}", *fields])
    client.sendall(head.encode("latin-1") + HEAD_END + body)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        head, rest = read_head(client)
        if not head:
            return
        sent, hijacked = upstream_head(head)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self.server.upstream)  # type: ignore[attr-defined]
            upstream.sendall(sent + rest)
            rewritten = REWRITTEN.fullmatch(head.split(b"\r\n", 1)[0])
            if rewritten:
                answer_as_arm64(client, upstream, rewritten.group(1).decode())
            else:
                pipe(client, upstream, hijacked=hijacked)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream


@contextlib.contextmanager
def serving(upstream: str = UPSTREAM) -> Iterator[str]:
    """The shim on a free loopback port while the block runs: yields its tcp:// URL."""
    server = _Server(upstream)
    thread = threading.Thread(target=server.serve_forever, name="archshim", daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
