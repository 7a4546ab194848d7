"""Do: the engine calls made through the Docker SDK, the only module that imports it: builds,
pulls and pushes (build contexts, registry credentials, progress streams).

ci.engine.client imports this only when a run needs one of them; every other call goes through
ci.engine.api, so a run whose image is current never pays for importing the SDK.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import docker.constants
import docker.errors
import docker.tls
import docker.utils.build
import requests.exceptions
import urllib3.exceptions

import docker
from ci.engine.api import ApiError, TransportError, short
from ci.errors import ImageBuildError
from ci.planning.endpoints import Endpoint

Output = Callable[[bytes, bool], None]  # (chunk, is_stderr)


def client(ep: Endpoint, bridge_url: str | None, server_version: str) -> docker.DockerClient:
    """An SDK client for the engine ci.engine.client has already reached, speaking the API version that
    engine reported (or the SDK's newest, if older), so making it asks the engine nothing; no
    read timeout: builds take as long as they take."""
    newest = docker.constants.DEFAULT_DOCKER_API_VERSION
    version = min(server_version, newest, key=lambda v: tuple(int(x) for x in v.split(".")))
    if bridge_url or ep.tls is None:
        if bridge_url or ep.url:
            return docker.DockerClient(base_url=bridge_url or ep.url, timeout=None, version=version)  # type: ignore[arg-type]
        return docker.from_env(timeout=None, version=version)  # type: ignore[arg-type]
    cert = (ep.tls.cert, ep.tls.key) if ep.tls.cert and ep.tls.key else None
    verify: bool | str = (ep.tls.ca or True) if ep.tls.verify else False
    tls = docker.tls.TLSConfig(client_cert=cert, ca_cert=ep.tls.ca, verify=verify)
    found = docker.DockerClient(base_url=ep.url, timeout=None, tls=tls, version=version)  # type: ignore[arg-type]
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the engine's own CA unless the
    # session ignores the environment.
    found.api.trust_env = False
    return found


Client = Callable[[], docker.DockerClient]  # made on first use, in the caller's try
# What making the client or a call may raise besides the engine's own error answer.
# urllib3's own errors too: a build's stream read from the raw response (docker-py's stream helper)
# surfaces a connection cut mid-stream (podman's service under load: "Connection broken:
# IncompleteRead") unwrapped by requests.
LOST = (
    docker.errors.DockerException,
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    ApiError,
    TransportError,
)


def pull(sdk: Client, ref: str, platform: str) -> str | None:
    """Pull ref; None on success, else the reason it failed (never raises for that)."""
    repository, _, tag = ref.rpartition(":")
    return _first_error(
        lambda: sdk().api.pull(repository, tag=tag, platform=platform, stream=True, decode=True)
    )


def push(sdk: Client, ref: str) -> str | None:
    """Push ref; None on success, else the reason it failed (never raises for that)."""
    repository, _, tag = ref.rpartition(":")
    return _first_error(lambda: sdk().api.push(repository, tag=tag, stream=True, decode=True))


def _first_error(events: Callable[[], Iterator[dict[str, Any]]]) -> str | None:
    """The first error a streamed registry transfer reports, else None."""
    try:
        for event in events():
            if "error" in event:
                return short(str(event["error"]))
    except docker.errors.APIError as exc:
        return short(str(exc.explanation or exc))
    except LOST as exc:
        return short(str(exc))
    return None


SHIPPED_NAME = ".ciharness.Dockerfile"


def context_with(context: Path, dockerfile: Path) -> IO[bytes] | None:
    """The build context as a tar that holds a Dockerfile from outside it, under SHIPPED_NAME; None
    for one inside it. (Given such a Dockerfile, the SDK sends its text as a second `dockerfile`
    parameter, which Docker ignores and podman takes for the file's name.)"""
    if not dockerfile.is_absolute() or context.resolve() in dockerfile.resolve().parents:
        return None  # a relative one is the SDK's: relative to the context
    ignore = context / ".dockerignore"
    exclude = None
    if ignore.is_file():
        lines = (line.strip() for line in ignore.read_text(encoding="utf-8").splitlines())
        exclude = [line for line in lines if line and not line.startswith("#")]
    text = dockerfile.read_text(encoding="utf-8")
    tar = tempfile.TemporaryFile()  # noqa: SIM115  # the SDK reads it, then it goes with its last reference
    docker.utils.build.tar(context, exclude=exclude, dockerfile=(SHIPPED_NAME, text), fileobj=tar)
    return tar


def build(
    sdk: Client,
    *,
    context: Path,
    dockerfile: str,
    tag: str | None,
    platform: str,
    labels: dict[str, str],
    no_cache: bool,
    output: Output,
) -> str:
    """Build with every step streamed live; the image's id. Raises ImageBuildError with the
    engine's words."""
    what = tag or f"the first steps of {Path(dockerfile).name}"
    shipped = context_with(context, Path(dockerfile))
    try:
        events: Iterator[dict[str, Any]] = sdk().api.build(
            path=None if shipped else str(context),
            fileobj=shipped,
            custom_context=shipped is not None,
            dockerfile=SHIPPED_NAME if shipped else dockerfile,
            tag=tag,
            platform=platform,
            labels=labels,
            nocache=no_cache,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        built = ""
        for event in events:
            # Build steps go to stderr: stdout carries only what the user asked for.
            if isinstance(event.get("aux"), dict) and "ID" in event["aux"]:
                built = str(event["aux"]["ID"])
            if "stream" in event:
                output(str(event["stream"]).encode(), True)
                built = built or _successfully_built(str(event["stream"]))
            elif "status" in event and "id" not in event:
                output((str(event["status"]) + "\n").encode(), True)
            if "error" in event:
                raise ImageBuildError(f"building {what} failed: {short(str(event['error']))}")
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"building {what} failed: {short(str(exc.explanation or exc))}") from exc
    except LOST as exc:
        raise ImageBuildError(f"building {what} failed: lost the engine: {short(str(exc))}") from exc
    return built


def _successfully_built(line: str) -> str:
    """The image id in the classic builder's last line (what an engine says that sends no aux ID)."""
    found = re.match(r"Successfully built ([0-9a-f]{12,64})\s*$", line)
    return found.group(1) if found else ""
