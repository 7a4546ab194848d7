"""Do: the only module that talks to a Docker engine. Runs, streams, removes; builds, pulls.

It knows nothing about platforms or projects: it creates the containers it is told to (the API's
create body) and builds a context.
Calls go over ci.engine.api (the standard library); builds, pulls and pushes go through the
Docker SDK (ci.engine.sdk), imported the first time one is needed.
"""

from __future__ import annotations

import http.client
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci.engine.api import STDERR, ApiError, EngineApi, TransportError, short
from ci.engine.sshbridge import SshBridge
from ci.errors import ContainerError, EngineUnreachableError, SourceOverlayError
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


class Engine:
    def __init__(self, endpoint: Endpoint, http: EngineApi, bridge: SshBridge | None = None) -> None:
        self.endpoint = endpoint
        self.http = http
        self.bridge = bridge
        self._sdk: docker.DockerClient | None = None
        self._sdk_lock = threading.Lock()  # worker threads share the engine
        self._tty: dict[str, bool] = {}

    @classmethod
    def connect(cls, endpoint: Endpoint | str | None = None, timeout: float = 5.0) -> Engine:
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

    # -- images ---------------------------------------------------------------------------

    def image_exists(self, ref: str) -> bool:
        return self._inspect_image(ref) is not None

    def image_platform(self, ref: str) -> str | None:
        """linux/ARCH[/VARIANT] of the image ref, or None when there is none."""
        found = self._inspect_image(ref)
        if found is None:
            return None
        variant = found.get("Variant") or ""
        return "/".join(
            p for p in (found.get("Os") or "linux", found.get("Architecture") or "", variant) if p
        )

    def _inspect_image(self, ref: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.http.call("GET", f"/images/{ref}/json")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise ContainerError(f"cannot inspect the image {ref}: {short(exc.message)}") from exc
        return found

    def images(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.call(
            "GET", "/images/json", params={"filters": {"label": label_filters}}
        )
        return found

    def remove_image(self, ref: str) -> None:
        """Untag ref; the image itself goes only when no other tag or container holds it."""
        try:
            self.http.call("DELETE", f"/images/{ref}", params={"force": False, "noprune": False})
        except ApiError as exc:
            if exc.status != 404:
                log.warning("kept %s: %s", ref, short(exc.message))

    def pull(self, ref: str, platform: str) -> str | None:
        """Pull ref; None on success, else the reason it failed (never raises for that)."""
        from ci.engine import sdk  # noqa: PLC0415

        return sdk.pull(lambda: self.client, ref, platform)

    def tag(self, source: str, target: str) -> None:
        repository, _, tag = target.rpartition(":")
        self.http.call("POST", f"/images/{source}/tag", params={"repo": repository, "tag": tag})

    def push(self, ref: str) -> str | None:
        """Push ref; None on success, else the reason it failed (never raises for that)."""
        from ci.engine import sdk  # noqa: PLC0415

        return sdk.push(lambda: self.client, ref)

    def build(
        self,
        *,
        context: Path,
        dockerfile: str,
        tag: str | None,
        platform: str,
        labels: dict[str, str],
        no_cache: bool,
        output: Output = write_through,
    ) -> None:
        """Build with every step streamed live (untagged where tag is None); raises ImageBuildError
        with the engine's words."""
        from ci.engine import sdk  # noqa: PLC0415

        sdk.build(
            lambda: self.client,
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            platform=platform,
            labels=labels,
            no_cache=no_cache,
            output=output,
        )

    # -- containers -----------------------------------------------------------------------

    def create(self, body: Mapping[str, Any], *, name: str, platform: str, tty: bool) -> str:
        """A container from the API's create body (ci.planning.createbody makes it from a run's
        spec): its id. tty: whether it has a terminal, which decides how its output streams."""
        try:
            container = self.http.post_json(
                "/containers/create", dict(body), params={"name": name or None, "platform": platform or None}
            )
        except ApiError as exc:
            raise ContainerError(f"cannot create the container: {short(exc.message)}") from exc
        except TransportError as exc:
            raise ContainerError(f"lost the engine creating the container: {short(str(exc))}") from exc
        self._tty[str(container["Id"])] = tty
        return str(container["Id"])

    def start_and_stream(self, container_id: str, output: Output = write_through) -> int:
        """Start the container, stream its output until it ends, return its exit status."""
        try:
            with self.http.attach(container_id, tty=self._tty.pop(container_id, False)) as attached:
                self._start(container_id)
                for stream, chunk in attached:
                    output(chunk, stream == STDERR)
            result = self.http.call("POST", f"/containers/{container_id}/wait")
        except ApiError as exc:
            raise ContainerError(f"the container failed: {short(exc.message)}") from exc
        except TransportError as exc:
            raise ContainerError(f"lost the engine while the container ran: {short(str(exc))}") from exc
        return int(result.get("StatusCode", 1))

    def _start(self, container_id: str) -> None:
        """Start it; a source overlay the engine cannot mount is told apart (the run is then
        made again with a read-only source: only ever a run that never started)."""
        try:
            self.http.call("POST", f"/containers/{container_id}/start")
        except ApiError as exc:
            reason = short(exc.message)
            if "overlay" in reason and "mount" in reason:
                raise SourceOverlayError(
                    f"the engine cannot mount the source copy-on-write here ({reason.rsplit(': ', 1)[-1]})"
                ) from exc
            raise

    def remove(self, container_id: str) -> None:
        """Force-remove; a container already gone (or going) is not an error."""
        try:
            # with its anonymous volumes (the copy-on-write source's overlay)
            self.http.call("DELETE", f"/containers/{container_id}", params={"force": True, "v": True})
        except ApiError as exc:
            if exc.status == 409:
                self._wait_gone(container_id)  # another thread's removal is under way
            elif exc.status != 404:
                raise ContainerError(f"cannot remove container {container_id[:12]}: {exc.message}") from exc
        except TransportError as exc:
            # The engine is gone (restarting?): the watchdog or the next run reaps it.
            log.warning("could not remove container %s: %s", container_id[:12], short(str(exc)))

    def _wait_gone(self, container_id: str, seconds: float = 15.0) -> None:
        """Until a removal under way has finished: a run returns only once its container is gone."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.http.call("GET", f"/containers/{container_id}/json")
            except ApiError as exc:
                if exc.status == 404:
                    return
            time.sleep(0.1)
        log.warning("container %s is still being removed by the engine", container_id[:12])

    def put_archive(self, container_id: str, path: str, data: bytes) -> None:
        try:
            self.http.call("PUT", f"/containers/{container_id}/archive", params={"path": path}, body=data)
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot copy files into the container: {short(str(exc))}") from exc

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        try:
            conn, response = self.http.open(
                "GET", f"/containers/{container_id}/archive", params={"path": path}
            )
        except (ApiError, TransportError) as exc:
            if isinstance(exc, ApiError) and exc.status == 404:
                return iter(())
            raise ContainerError(f"cannot copy results out of the container: {short(str(exc))}") from exc
        return _chunks(conn, response)

    def owned_volume(self, name: str, uid: int, gid: int, image: str) -> None:
        """A named volume the run's user can write (a new volume's root belongs to root)."""
        try:
            self.http.post_json(
                "/volumes/create", {"Name": name, "Labels": {"io.ciharness.volume": "ccache"}}
            )
            self._runshort(image, ["chown", f"{uid}:{gid}", "/volume"], binds=[f"{name}:/volume"])
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"cannot prepare the volume {name}: {short(str(exc))}") from exc

    def run_as_root(
        self, image: str, command: list[str], *, binds: list[str], platform: str, labels: dict[str, str]
    ) -> int:
        """A short housekeeping container as root (labelled, so the watchdog and the orphan
        reaper know it); its exit status."""
        try:
            return self._runshort(image, command, binds=binds, platform=platform, labels=labels)
        except (ApiError, TransportError) as exc:
            raise ContainerError(f"a housekeeping container failed: {short(str(exc))}") from exc

    def _runshort(
        self,
        image: str,
        command: list[str],
        *,
        binds: list[str],
        platform: str = "",
        labels: dict[str, str] | None = None,
    ) -> int:
        config = {
            "Image": image,
            "Cmd": command,
            "User": "0:0",
            "Labels": labels or {},
            "HostConfig": {"Binds": binds, "NetworkMode": "default"},
        }
        container = self.http.post_json("/containers/create", config, params={"platform": platform or None})
        container_id = str(container["Id"])
        try:
            self.http.call("POST", f"/containers/{container_id}/start")
            return int(self.http.call("POST", f"/containers/{container_id}/wait").get("StatusCode", 1))
        finally:
            self.remove(container_id)

    def containers(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.call(
            "GET", "/containers/json", params={"all": True, "filters": {"label": label_filters}}
        )
        return found


def _chunks(conn: Any, response: Any) -> Iterator[bytes]:
    try:
        while chunk := response.read(64 * 1024):
            yield chunk
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise ContainerError(
            f"lost the engine copying results out of the container: {short(str(exc))}"
        ) from exc
    finally:
        response.close()
        conn.close()
