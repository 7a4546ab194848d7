"""Decide which Docker engine runs each platform, and how to reach it safely (TLS, SSH).

Sources, strongest first: --docker-host PLATFORM=URL on the command line; the engines file
(TOML: an [engines] table of platform = "URL", "*" for every other platform); DOCKER_HOST;
the Docker context (DOCKER_CONTEXT, else the CLI's currentContext); the local socket.
A URL is unix://, tcp:// or ssh://, or context:NAME for a Docker context's endpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from ci.errors import InsecureEngineError, UsageError

URL_RE = re.compile(r"^(unix|tcp|ssh|npipe)://\S+$")
LOCAL = ""  # the default engine of docker-py (DOCKER_HOST or /var/run/docker.sock)
INSECURE_OPT_IN = "CI_INSECURE_ENGINES"  # "I mean it": 1, or a comma list of tcp:// URLs


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tls:
    """Mutual TLS material for a tcp:// engine (paths as the docker CLI stores them)."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One engine: its URL ('' for the default local one) and how to reach it."""

    url: str
    tls: Tls | None = None
    ssh_config: str | None = None  # passed to ssh as -F for ssh:// engines

    def to_arg(self) -> str:
        """One command-line word (the watchdog takes its engines this way)."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_arg(cls, arg: str) -> Endpoint:
        if not arg.startswith("{"):  # a bare URL, '-' for the default engine
            return cls("" if arg == "-" else arg)
        data = json.loads(arg)
        tls = Tls(**data["tls"]) if data.get("tls") else None
        return cls(str(data["url"]), tls, data.get("ssh_config"))


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """--docker-host PLATFORM=URL, repeatable."""
    found: dict[str, str] = {}
    for pair in pairs:
        platform, sep, url = pair.partition("=")
        if not sep or not platform or not url:
            raise UsageError(
                f"malformed --docker-host {pair!r}: expected PLATFORM=URL",
                hint="for example --docker-host arm64=ssh://ci@arm-builder",
            )
        found[platform] = url
    return found


def _read_toml(path: Path) -> dict[str, object]:
    import tomllib  # noqa: PLC0415  # only with an engines file: kept off every run's start-up

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"cannot read the engines file {path}: {exc}", hint="see docs/scaling-out.md"
        ) from exc


def load_file(path: Path) -> dict[str, str]:
    table = _read_toml(path).get("engines", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise UsageError(f'{path}: expected an [engines] table of platform = "URL" strings')
    return {str(k): str(v) for k, v in table.items()}


def load_access(path: Path) -> dict[str, Endpoint]:
    """The engines file's [tls."URL"] (ca, cert, key, verify) and [ssh."URL"] (config) tables.
    Relative paths are relative to the file."""
    data = _read_toml(path)
    found: dict[str, Endpoint] = {}
    for kind, keys in (("tls", {"ca", "cert", "key", "verify"}), ("ssh", {"config"})):
        table = data.get(kind, {})
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise UsageError(f'{path}: expected [{kind}."URL"] tables', hint="see docs/scaling-out.md")
        for url, entry in table.items():
            unknown = set(entry) - keys
            if unknown or not all(isinstance(v, bool if k == "verify" else str) for k, v in entry.items()):
                raise UsageError(
                    f'{path}: [{kind}."{url}"] takes {", ".join(sorted(keys))}'
                    + (f", not {', '.join(sorted(unknown))}" if unknown else " (paths as strings)"),
                    hint="see docs/scaling-out.md",
                )
            files = {k: str((path.parent / v).expanduser()) for k, v in entry.items() if isinstance(v, str)}
            old = found.get(url, Endpoint(url))
            if kind == "tls":
                found[url] = dataclasses.replace(old, tls=Tls(**files, verify=entry.get("verify", True)))
            else:
                found[url] = dataclasses.replace(old, ssh_config=files.get("config"))
    return found


def context_endpoint(name: str, docker_config: Path) -> Endpoint:
    """The endpoint of a Docker context, with its TLS material, as the docker CLI stores them:
    contexts/meta/<sha256 of name>/meta.json and contexts/tls/<sha256>/docker/{ca,cert,key}.pem."""
    if name == "default":
        return Endpoint(LOCAL)
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = docker_config / "contexts" / "meta" / digest / "meta.json"
    try:
        docker_endpoint = json.loads(meta.read_text(encoding="utf-8"))["Endpoints"]["docker"]
        host = str(docker_endpoint["Host"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f"unknown Docker context {name!r}", hint="list them with `docker context ls`"
        ) from exc
    tls_dir = docker_config / "contexts" / "tls" / digest / "docker"
    files = {k: str(tls_dir / f"{k}.pem") for k in ("ca", "cert", "key") if (tls_dir / f"{k}.pem").is_file()}
    skip = bool(docker_endpoint.get("SkipTLSVerify"))
    tls = Tls(**files, verify=not skip) if files or skip else None
    return Endpoint(host, tls)


def env_tls(env: Mapping[str, str], docker_config: Path) -> Tls | None:
    """TLS for DOCKER_HOST as the docker CLI reads it: DOCKER_TLS_VERIFY (verify the engine),
    DOCKER_TLS (TLS without verifying), DOCKER_CERT_PATH (default ~/.docker) holding
    ca.pem, cert.pem and key.pem."""
    verify = env.get("DOCKER_TLS_VERIFY", "") not in ("", "0")
    if not (verify or env.get("DOCKER_TLS", "") not in ("", "0") or env.get("DOCKER_CERT_PATH")):
        return None
    where = Path(env.get("DOCKER_CERT_PATH") or docker_config)
    files = {k: str(where / f"{k}.pem") for k in ("ca", "cert", "key") if (where / f"{k}.pem").is_file()}
    return Tls(**files, verify=verify)


def default_endpoint(env: Mapping[str, str], docker_config: Path) -> Endpoint:
    if env.get("DOCKER_HOST"):
        return Endpoint(env["DOCKER_HOST"], env_tls(env, docker_config))
    name = env.get("DOCKER_CONTEXT")
    if not name:
        try:
            config = json.loads((docker_config / "config.json").read_text(encoding="utf-8"))
            name = config.get("currentContext")
        except (OSError, ValueError):
            name = None
    return context_endpoint(name, docker_config) if name else Endpoint(LOCAL)


def resolve_endpoint(url: str, docker_config: Path, access: Mapping[str, Endpoint] | None = None) -> Endpoint:
    """URL or context:NAME -> Endpoint; the engines file's [tls]/[ssh] tables name URLs (or
    context:NAME) and beat what a context stores."""
    given = (access or {}).get(url)
    if url.startswith("context:"):
        found = context_endpoint(url.removeprefix("context:"), docker_config)
    elif url != LOCAL and not URL_RE.match(url):
        raise UsageError(
            f"engine URL {url!r} is not unix://, tcp://, ssh:// or context:NAME",
            hint="for example ssh://ci@arm-builder or tcp://arm-builder:2376 with TLS",
        )
    else:
        found = Endpoint(url)
    given = given or (access or {}).get(found.url)
    if given is None:
        return found
    return Endpoint(found.url, given.tls or found.tls, given.ssh_config or found.ssh_config)


def endpoints_for(
    platforms: list[str],
    *,
    pairs: Mapping[str, str],
    file_table: Mapping[str, str],
    access: Mapping[str, Endpoint],
    env: Mapping[str, str],
    docker_config: Path,
    ssh_config: str | None = None,
) -> dict[str, Endpoint]:
    """platform -> Endpoint (url '' for the default local engine); ssh_config (the ssh-config
    setting) for the ssh:// engines the engines file gives none."""
    if "*" in file_table:
        fallback = resolve_endpoint(file_table["*"], docker_config, access)
    else:
        fallback = default_endpoint(env, docker_config)
        fallback = resolve_endpoint(fallback.url, docker_config, access) if not fallback.tls else fallback
    chosen: dict[str, Endpoint] = {}
    for platform in platforms:
        url = pairs.get(platform) or file_table.get(platform)
        chosen[platform] = resolve_endpoint(url, docker_config, access) if url else fallback
    return {
        p: dataclasses.replace(e, ssh_config=ssh_config)
        if ssh_config and e.url.startswith("ssh://") and not e.ssh_config
        else e
        for p, e in chosen.items()
    }


def every_endpoint(
    named: list[str], env: Mapping[str, str], docker_config: Path, access: Mapping[str, Endpoint]
) -> dict[str, Endpoint]:
    """The default engine and every named one (URLs or context:NAME), each with its access."""
    default = default_endpoint(env, docker_config)
    return {default.url: default} | {u: resolve_endpoint(u, docker_config, access) for u in named}


def is_remote(url: str) -> bool:
    """Remote engines cannot see this machine's files: sources go in and results out by copy."""
    return url.startswith(("tcp://", "ssh://"))


def on_this_machine(url: str) -> bool:
    """Whether the engine at url runs on this machine: its containers meet this kernel's
    binfmt_misc handlers (this machine's QEMU)."""
    return not is_remote(url) or is_loopback(url)


def is_loopback(url: str) -> bool:
    return is_loopback_name(urllib.parse.urlsplit(url).hostname or "")


def is_loopback_name(name: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (a bare host name or address, no port or brackets)."""
    if name == "localhost":
        return True
    import ipaddress  # noqa: PLC0415  # only for tcp:// engines and registries: off start-up

    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


TLS_HINT = (
    "check the CA, certificate and key given for this engine (DOCKER_TLS_VERIFY and "
    'DOCKER_CERT_PATH, the Docker context\'s TLS material, or [tls."URL"] in the engines file)'
)
SSH_HINT = (
    "check that `ssh HOST docker version` works (keys, known_hosts; an ssh config of its own: "
    '[ssh."URL"] config in the engines file, or CI_SSH_CONFIG)'
)


def unreachable_hint(endpoint: Endpoint, reason: str, default: str) -> str:
    """How to fix an engine that did not answer, from how it was reached and what failed."""
    if endpoint.url.startswith("ssh://"):
        return SSH_HINT
    if endpoint.tls is not None or "SSL" in reason or "TLS" in reason:
        return TLS_HINT
    if "HTTP request to an HTTPS server" in reason:
        return f"the engine wants TLS: {TLS_HINT}"
    if "Permission denied" in reason or "PermissionError" in reason:
        return "add your user to the docker group (sudo usermod -aG docker $USER) and log in again"
    return default


def check_secure(endpoint: Endpoint, opt_in: str) -> None:
    """A tcp:// engine without TLS gives root on its machine to anyone who reaches the port:
    refused off loopback unless opt_in (the insecure-engines setting, CI_INSECURE_ENGINES) says
    the user means it (1, or its URL)."""
    if not endpoint.url.startswith("tcp://") or endpoint.tls or is_loopback(endpoint.url):
        return
    if opt_in == "1" or endpoint.url in [u.strip() for u in opt_in.split(",")]:
        return
    raise InsecureEngineError(
        f"refusing the engine {endpoint.url}: plain TCP without TLS gives root on that machine to "
        "anyone who can reach its port",
        hint="use ssh://USER@HOST, or TLS (port 2376: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, a "
        f'Docker context, or [tls."{endpoint.url}"] in the engines file); if you mean it, set '
        f"{INSECURE_OPT_IN}={endpoint.url}",
    )
