"""Do: the only module that imports the Docker SDK. Builds, pulls, runs, streams, removes.

It knows nothing about platforms or projects: it executes a RunSpec and builds a context.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.constants
import docker.errors
import docker.tls
import docker.types
import requests.exceptions

import docker
from ci.engines import Endpoint, unreachable_hint
from ci.errors import ContainerError, EngineUnreachableError, ImageBuildError, SourceOverlayError
from ci.plan import RunSpec
from ci.platforms import host_docker_platform
from ci.sshbridge import SshBridge

log = logging.getLogger(__name__)

Output = Callable[[bytes, bool], None]  # (chunk, is_stderr)


def write_through(chunk: bytes, is_stderr: bool) -> None:
    stream = sys.stderr.buffer if is_stderr else sys.stdout.buffer
    stream.write(chunk)
    stream.flush()


START_HINT = (
    "start one with `sudo ci/provision.sh` (installs and starts dockerd), "
    "or point DOCKER_HOST at a running engine"
)


class Engine:
    def __init__(self, client: docker.DockerClient, bridge: SshBridge | None = None) -> None:
        self.client = client
        self.api = client.api
        self.bridge = bridge

    @classmethod
    def connect(cls, endpoint: Endpoint | str | None = None, timeout: float = 5.0) -> Engine:
        """Connect and ping; an engine that is down is reported within `timeout` seconds."""
        ep = endpoint if isinstance(endpoint, Endpoint) else Endpoint(endpoint or "")
        where = ep.url or "the default engine (DOCKER_HOST or unix:///var/run/docker.sock)"
        bridge = SshBridge(ep.url, ep.ssh_config) if ep.url.startswith("ssh://") else None
        try:
            client = _client(ep, bridge.url if bridge else None, int(timeout))
            client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            reason = (bridge.error() if bridge else "") or _short(str(exc))
            if bridge is not None:
                bridge.close()
            raise EngineUnreachableError(
                f"cannot reach the Docker engine at {where}: {reason}",
                hint=unreachable_hint(ep, reason, START_HINT),
            ) from exc
        # Builds and runs can take hours: no read timeout after the ping.
        client.api.timeout = None  # type: ignore[assignment]
        return cls(client, bridge)

    def info(self) -> dict[str, Any]:
        found: dict[str, Any] = self.api.info()
        return found

    def docker_platform(self) -> str:
        """The engine's own platform (linux/amd64, linux/arm64, ...), as its host reports it."""
        return host_docker_platform(str(self.info().get("Architecture", "x86_64")))

    # -- images ---------------------------------------------------------------------------

    def image_exists(self, ref: str) -> bool:
        try:
            self.api.inspect_image(ref)  # type: ignore[no-untyped-call]
        except docker.errors.ImageNotFound:
            return False
        return True

    def image_platform(self, ref: str) -> str:
        info = self.api.inspect_image(ref)  # type: ignore[no-untyped-call]
        platform = f"{info.get('Os', 'linux')}/{info.get('Architecture', '')}"
        if info.get("Variant"):
            platform += f"/{info['Variant']}"
        return platform

    def images(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api.images(filters={"label": label_filters})
        return found

    def remove_image(self, ref: str) -> None:
        """Untag ref; the image itself goes only when no other tag or container holds it."""
        try:
            self.api.remove_image(ref, force=False, noprune=False)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            log.warning("kept %s: %s", ref, _short(str(exc.explanation or exc)))

    def pull(self, ref: str, platform: str) -> str | None:
        """Pull ref; None on success, else the reason it failed (never raises for that)."""
        repository, _, tag = ref.rpartition(":")
        try:
            for event in self.api.pull(repository, tag=tag, platform=platform, stream=True, decode=True):
                if "error" in event:
                    return str(event["error"])
        except docker.errors.APIError as exc:
            return _short(str(exc.explanation or exc))
        except requests.exceptions.RequestException as exc:
            return _short(str(exc))
        return None

    def tag(self, source: str, target: str) -> None:
        repository, _, tag = target.rpartition(":")
        self.api.tag(source, repository, tag)

    def push(self, ref: str) -> str | None:
        """Push ref; None on success, else the reason it failed (never raises for that)."""
        repository, _, tag = ref.rpartition(":")
        try:
            for event in self.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    return _short(str(event["error"]))
        except docker.errors.APIError as exc:
            return _short(str(exc.explanation or exc))
        except requests.exceptions.RequestException as exc:
            return _short(str(exc))
        return None

    def build(
        self,
        *,
        context: Path,
        dockerfile: str,
        tag: str,
        platform: str,
        labels: dict[str, str],
        no_cache: bool,
        output: Output = write_through,
    ) -> None:
        """Build with every step streamed live; raises ImageBuildError with the engine's words."""
        try:
            events: Iterator[dict[str, Any]] = self.api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                platform=platform,
                labels=labels,
                nocache=no_cache,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
            )
            for event in events:
                # Build steps go to stderr: stdout carries only what the user asked for.
                if "stream" in event:
                    output(str(event["stream"]).encode(), True)
                elif "status" in event and "id" not in event:
                    output((str(event["status"]) + "\n").encode(), True)
                if "error" in event:
                    raise ImageBuildError(f"building {tag} failed: {_short(str(event['error']))}")
        except docker.errors.APIError as exc:
            raise ImageBuildError(f"building {tag} failed: {_short(str(exc.explanation or exc))}") from exc
        except requests.exceptions.RequestException as exc:
            raise ImageBuildError(f"building {tag} failed: lost the engine: {_short(str(exc))}") from exc

    # -- containers -----------------------------------------------------------------------

    def create(self, spec: RunSpec) -> str:
        try:
            container = self.api.create_container(
                image=spec.image,
                command=list(spec.command),
                name=spec.name,
                user=spec.user,
                working_dir=spec.workdir,
                environment=[f"{k}={v}" for k, v in spec.env],
                labels=dict(spec.labels),
                stdin_open=spec.interactive,
                tty=spec.tty,
                platform=spec.docker_platform,
                host_config=self._host_config(spec),
            )
        except docker.errors.APIError as exc:
            raise ContainerError(
                f"cannot create the container: {_short(str(exc.explanation or exc))}"
            ) from exc
        return str(container["Id"])

    def _host_config(self, spec: RunSpec) -> dict[str, Any]:
        # Docker makes a copy-on-write source as an anonymous overlay volume; podman (and every
        # other mount) as a bind.
        volumes = [m for m in spec.mounts if m.upper is not None and spec.program == "docker"]
        config: dict[str, Any] = self.api.create_host_config(
            binds=[m.cli_args(spec.program)[1] for m in spec.mounts if m not in volumes],
            mounts=[
                docker.types.Mount(
                    target=m.target,
                    source=None,
                    type="volume",
                    driver_config=docker.types.DriverConfig(
                        "local", {"type": "overlay", "device": "overlay", "o": m.overlay_options()}
                    ),
                )
                for m in volumes
            ]
            or None,
            init=True,
            privileged=spec.privileged,
            ulimits=[docker.types.Ulimit(name=n, soft=s, hard=h) for n, s, h in spec.ulimits] or None,
            extra_hosts=dict(spec.extra_hosts) or None,
        )
        if spec.userns:
            config["UsernsMode"] = spec.userns  # the SDK only knows "host"; podman's API takes keep-id
        if spec.network:
            config["NetworkMode"] = spec.network
        if spec.gpus.wanted:  # what `docker run --gpus` sends (the SDK's DeviceRequest, as JSON)
            config["DeviceRequests"] = [spec.gpus.device_request()]
        return config

    def start_and_stream(self, container_id: str, output: Output = write_through) -> int:
        """Start the container, stream its output until it ends, return its exit status."""
        try:
            stream = self.api.attach(container_id, stream=True, logs=True, demux=True)
            self.api.start(container_id)
            for out, err in stream:
                if out:
                    output(out, False)
                if err:
                    output(err, True)
            result = self.api.wait(container_id)
        except docker.errors.APIError as exc:
            reason = _short(str(exc.explanation or exc))
            if "overlay" in reason and "mount" in reason:
                raise SourceOverlayError(
                    f"the engine cannot mount the source copy-on-write here ({reason.rsplit(': ', 1)[-1]})"
                ) from exc
            raise ContainerError(f"the container failed: {reason}") from exc
        except requests.exceptions.RequestException as exc:
            raise ContainerError(f"lost the engine while the container ran: {_short(str(exc))}") from exc
        return int(result.get("StatusCode", 1))

    def remove(self, container_id: str) -> None:
        """Force-remove; a container already gone (or going) is not an error."""
        try:
            self.api.remove_container(container_id, force=True, v=True)  # with its anonymous volumes
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise
            self._wait_gone(container_id)  # 409: another thread's removal is under way
        except requests.exceptions.RequestException as exc:
            # The engine is gone (restarting?): the watchdog or the next run reaps it.
            log.warning("could not remove container %s: %s", container_id[:12], _short(str(exc)))

    def _wait_gone(self, container_id: str, seconds: float = 15.0) -> None:
        """Until a removal under way has finished: a run returns only once its container is gone."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.api.inspect_container(container_id)
            except docker.errors.NotFound:
                return
            time.sleep(0.1)
        log.warning("container %s is still being removed by the engine", container_id[:12])

    def put_archive(self, container_id: str, path: str, data: bytes) -> None:
        try:
            self.api.put_archive(container_id, path, data)
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            raise ContainerError(f"cannot copy files into the container: {_short(str(exc))}") from exc

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        try:
            stream, _ = self.api.get_archive(container_id, path)
        except docker.errors.NotFound:
            return iter(())
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            raise ContainerError(f"cannot copy results out of the container: {_short(str(exc))}") from exc
        return iter(stream)

    def owned_volume(self, name: str, uid: int, gid: int, image: str) -> None:
        """A named volume the run's user can write (a new volume's root belongs to root)."""
        try:
            self.api.create_volume(name=name, labels={"io.ciharness.volume": "ccache"})
            container = self.api.create_container(
                image=image,
                command=["chown", f"{uid}:{gid}", "/volume"],
                user="0:0",
                host_config=self.api.create_host_config(binds=[f"{name}:/volume"]),
            )
            try:
                self.api.start(container["Id"])
                self.api.wait(container["Id"])
            finally:
                self.api.remove_container(container["Id"], force=True)
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            raise ContainerError(f"cannot prepare the volume {name}: {_short(str(exc))}") from exc

    def run_as_root(
        self, image: str, command: list[str], *, binds: list[str], platform: str, labels: dict[str, str]
    ) -> int:
        """A short housekeeping container as root (labelled, so the watchdog and the orphan
        reaper know it); its exit status."""
        try:
            container = self.api.create_container(
                image=image,
                command=command,
                user="0:0",
                labels=labels,
                platform=platform,
                host_config=self.api.create_host_config(binds=binds),
            )
            try:
                self.api.start(container["Id"])
                return int(self.api.wait(container["Id"]).get("StatusCode", 1))
            finally:
                self.remove(container["Id"])
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            raise ContainerError(f"a housekeeping container failed: {_short(str(exc))}") from exc

    def containers(self, label_filters: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api.containers(all=True, filters={"label": label_filters})
        return found


def _client(ep: Endpoint, bridge_url: str | None, timeout: int) -> docker.DockerClient:
    if bridge_url or ep.tls is None:
        if bridge_url or ep.url:
            return docker.DockerClient(base_url=bridge_url or ep.url, timeout=timeout)
        return docker.from_env(timeout=timeout)
    for path in (ep.tls.ca, ep.tls.cert, ep.tls.key):
        if path and not Path(path).is_file():
            raise docker.errors.TLSParameterError(f"no such TLS file: {path}")
    cert = (ep.tls.cert, ep.tls.key) if ep.tls.cert and ep.tls.key else None
    verify: bool | str = (ep.tls.ca or True) if ep.tls.verify else False
    tls = docker.tls.TLSConfig(client_cert=cert, ca_cert=ep.tls.ca, verify=verify)
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the engine's own CA unless the
    # session ignores the environment, and docker-py asks for the API version before that can
    # be set: ask with the oldest version, then settle on what both sides speak.
    probe = docker.DockerClient(base_url=ep.url, timeout=timeout, tls=tls, version="1.24")
    probe.api.trust_env = False
    server = str(probe.api.version(api_version=False)["ApiVersion"])
    probe.close()
    newest = docker.constants.DEFAULT_DOCKER_API_VERSION
    version = min(server, newest, key=lambda v: tuple(int(x) for x in v.split(".")))
    client = docker.DockerClient(base_url=ep.url, timeout=timeout, tls=tls, version=version)
    client.api.trust_env = False
    return client


def _short(text: str) -> str:
    """The engine's message on one line."""
    return " ".join(text.split())[:500]
