"""Decide which Docker engine runs each platform.

Sources, strongest first: --docker-host PLATFORM=URL on the command line; the engines file
(TOML: an [engines] table of platform = "URL", "*" for every other platform); DOCKER_HOST;
the Docker context (DOCKER_CONTEXT, else the CLI's currentContext); the local socket.
A URL is unix://, tcp:// or ssh://, or context:NAME for a Docker context's endpoint.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ci.errors import UsageError

URL_RE = re.compile(r"^(unix|tcp|ssh|npipe)://\S+$")
LOCAL = ""  # the default engine of docker-py (DOCKER_HOST or /var/run/docker.sock)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """--docker-host PLATFORM=URL, repeatable."""
    found: dict[str, str] = {}
    for pair in pairs:
        platform, sep, url = pair.partition("=")
        if not sep or not platform or not url:
            raise UsageError(
                f"malformed --docker-host {pair!r}: expected PLATFORM=URL",
                hint="for example --docker-host arm64=tcp://arm-builder:2375",
            )
        found[platform] = url
    return found


def load_file(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"cannot read the engines file {path}: {exc}", hint="see README, Scaling out"
        ) from exc
    table = data.get("engines", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise UsageError(f'{path}: expected an [engines] table of platform = "URL" strings')
    return {str(k): str(v) for k, v in table.items()}


def context_host(name: str, docker_config: Path) -> str:
    """The engine URL of a Docker context, as the docker CLI stores it."""
    if name == "default":
        return LOCAL
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = docker_config / "contexts" / "meta" / digest / "meta.json"
    try:
        host = json.loads(meta.read_text(encoding="utf-8"))["Endpoints"]["docker"]["Host"]
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(
            f"unknown Docker context {name!r}", hint="list them with `docker context ls`"
        ) from exc
    return str(host)


def default_url(env: Mapping[str, str], docker_config: Path) -> str:
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    name = env.get("DOCKER_CONTEXT")
    if not name:
        try:
            config = json.loads((docker_config / "config.json").read_text(encoding="utf-8"))
            name = config.get("currentContext")
        except (OSError, ValueError):
            name = None
    return context_host(name, docker_config) if name else LOCAL


def resolve(url: str, docker_config: Path) -> str:
    if url.startswith("context:"):
        return context_host(url.removeprefix("context:"), docker_config)
    if url != LOCAL and not URL_RE.match(url):
        raise UsageError(
            f"engine URL {url!r} is not unix://, tcp://, ssh:// or context:NAME",
            hint="for example tcp://127.0.0.1:2375 or unix:///run/other-docker.sock",
        )
    return url


def engine_for(
    platforms: list[str],
    *,
    pairs: Mapping[str, str],
    file_table: Mapping[str, str],
    env: Mapping[str, str],
    docker_config: Path,
) -> dict[str, str]:
    """platform -> engine URL ('' for the default local engine)."""
    fallback = resolve(file_table.get("*", default_url(env, docker_config)), docker_config)
    chosen: dict[str, str] = {}
    for platform in platforms:
        url = pairs.get(platform) or file_table.get(platform)
        chosen[platform] = resolve(url, docker_config) if url else fallback
    return chosen


def is_remote(url: str) -> bool:
    """Remote engines cannot see this machine's files: sources go in and results out by copy."""
    return url.startswith(("tcp://", "ssh://"))
