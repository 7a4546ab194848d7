"""Do: a connection to one Docker engine: reached and pinged, its API client over HTTP
(ci.engine.api) and, on first use, the Docker SDK's (ci.engine.sdk); what it reports of itself.
The engine's image and container calls are ci.engine.imageops and ci.engine.containerops; Engine
(ci.engine.client) is all three."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from ci.engine.api import ApiError, EngineApi, TransportError, short
from ci.engine.sshbridge import SshBridge
from ci.errors import EngineUnreachableError
from ci.planning.endpoints import Endpoint, unreachable_hint

if TYPE_CHECKING:
    import docker

log = logging.getLogger(__name__)

Output = Callable[[bytes, bool], None]  # (chunk, is_stderr)


def write_through(chunk: bytes, is_stderr: bool) -> None:
    stream = sys.stderr.buffer if is_stderr else sys.stdout.buffer
    stream.write(chunk)
    stream.flush()


START_HINT = (
    "start one with `sudo scripts/provision.sh` (installs and starts dockerd), "
    "or point DOCKER_HOST at a running engine"
)


LOCAL_SOCKET = "unix:///var/run/docker.sock"


def _reach(ep: Endpoint) -> Endpoint:
    """The URL and TLS to dial: url '' is the local socket (DOCKER_HOST, with its TLS, was
    already read from the environment build.py was given: ci.planning.endpoints.default_endpoint)."""
    return ep if ep.url else Endpoint(LOCAL_SOCKET)


class Connected:
    """An engine reached: its endpoint, its API client, the SSH bridge it goes through."""

    def __init__(self, endpoint: Endpoint, http: EngineApi, bridge: SshBridge | None = None) -> None:
        self.endpoint = endpoint
        self.http = http
        self.bridge = bridge
        self._sdk: docker.DockerClient | None = None
        self._sdk_lock = threading.Lock()  # worker threads share the engine
        self._tty: dict[str, bool] = {}

    @classmethod
    def connect(cls, endpoint: Endpoint | str | None = None, timeout: float = 5.0) -> Self:
        """Connect and ping; an engine that is down is reported within `timeout` seconds."""
        ep = endpoint if isinstance(endpoint, Endpoint) else Endpoint(endpoint or "")
        where = ep.url or "the default engine (DOCKER_HOST or unix:///var/run/docker.sock)"
        bridge = SshBridge(ep.url, ep.ssh_config) if ep.url.startswith("ssh://") else None
        target = Endpoint(bridge.url) if bridge else _reach(ep)
        try:
            for path in (target.tls.ca, target.tls.cert, target.tls.key) if target.tls else ():
                if path and not Path(path).is_file():
                    raise TransportError(f"no such TLS file: {path}")
            http = EngineApi(target.url, target.tls, timeout)
            http.ping()
        except (TransportError, ApiError, OSError, ValueError) as exc:
            reason = (bridge.error() if bridge else "") or short(str(exc))
            if bridge is not None:
                bridge.close()
            raise EngineUnreachableError(
                f"cannot reach the Docker engine at {where}: {reason}",
                hint=unreachable_hint(ep, reason, START_HINT),
            ) from exc
        http.timeout = None  # builds and runs can take hours: no read timeout after the ping
        return cls(ep, http, bridge)

    @property
    def client(self) -> docker.DockerClient:
        """The Docker SDK's client for this engine, made (and the SDK imported) on first use."""
        with self._sdk_lock:
            if self._sdk is None:
                from ci.engine import sdk  # noqa: PLC0415  # the SDK's import is the slow part of a run

                bridge_url = self.bridge.url if self.bridge else None
                self._sdk = sdk.client(self.endpoint, bridge_url, str(self.version()["ApiVersion"]))
            return self._sdk

    def info(self) -> dict[str, Any]:
        found: dict[str, Any] = self.http.call("GET", "/info")
        return found

    def version(self) -> dict[str, Any]:
        found: dict[str, Any] = self.http.call("GET", "/version")
        return found
