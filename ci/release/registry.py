"""Do: talk to an image registry over its HTTP API (OCI distribution / Docker Registry v2):
read manifests and config blobs, put manifest lists. Standard library only; logs in with the
docker CLI's config.json `auths` (Basic, or a Bearer token fetched on a 401 challenge)."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from ci.errors import ReleasePushError
from ci.planning import endpoints

log = logging.getLogger(__name__)

DOCKER_HUB = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
CHALLENGE_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')


@dataclasses.dataclass(frozen=True, kw_only=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def split_repository(repository: str) -> tuple[str, str]:
    """127.0.0.1:5000/team/xsum -> (127.0.0.1:5000, team/xsum); Docker's rule: the first component
    is a host when it has a '.' or ':' or is localhost; otherwise Docker Hub (library/ for one)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, repository if rest else f"library/{repository}"


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or [::1], with or without a port."""
    name = host.split("]", 1)[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
    return endpoints.is_loopback_name(name)


def scheme_for(host: str, insecure: str) -> str:
    """Plain http for loopback registries and those in insecure (the insecure-registries setting,
    CI_INSECURE_REGISTRIES: comma separated); https otherwise."""
    named = {h.strip() for h in insecure.split(",") if h.strip()}
    return "http" if is_loopback(host) or host in named else "https"


def config_host(key: str) -> str:
    """An `auths` key as the docker CLI writes it (host, https://host, https://host/v1/) -> host."""
    if "://" in key:
        key = urllib.parse.urlsplit(key).netloc
    return key.split("/", 1)[0]


def credentials_for(host: str, config: Mapping[str, object]) -> tuple[str, str] | None:
    """(user, password) for host from a docker config.json's `auths`, or None."""
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    wanted = {host} | ({config_host(DOCKER_HUB_AUTH_KEY), "docker.io"} if host == DOCKER_HUB else set())
    for key, entry in auths.items():
        if config_host(str(key)) not in wanted or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            return user, password
        if entry.get("username"):
            return str(entry["username"]), str(entry.get("password", ""))
    return None


def load_docker_config(env: Mapping[str, str], home: Path) -> dict[str, object]:
    path = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"
    try:
        data = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """WWW-Authenticate: `Bearer realm="...",service="...",scope="..."` -> ("bearer", params)."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(CHALLENGE_PARAM_RE.findall(rest))


def token_url(params: Mapping[str, str]) -> str:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if k in ("service", "scope")})
    return params["realm"] + ("?" + query if query else "")


def basic_header(credentials: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None  # followed by hand, without our Authorization header


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> Response:
    if not url.startswith(("http://", "https://")):
        raise ReleasePushError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 (scheme checked above)
    try:
        with _OPENER.open(request, timeout=timeout) as reply:
            return Response(status=reply.status, headers=dict(reply.headers.items()), body=reply.read())
    except urllib.error.HTTPError as exc:
        return Response(status=exc.code, headers=dict(exc.headers.items()), body=exc.read())
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReleasePushError(
            f"cannot reach the registry at {url}: {reason}",
            hint="check that it is up; plain http is used for loopback and CI_INSECURE_REGISTRIES hosts",
        ) from exc


class Registry:
    """One registry host; keeps the Authorization it earned for later requests."""

    def __init__(self, host: str, insecure: str, config: Mapping[str, object], timeout: float = 30):
        self.host = host
        self.base = f"{scheme_for(host, insecure)}://{host}"
        self.credentials = credentials_for(host, config)
        self.timeout = timeout
        self.authorization: dict[tuple[str, bool], str] = {}  # by scope, from a 401's challenge

    def request(
        self, method: str, path: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        """One request, logging in on a 401 and following redirects (without our credentials)."""
        url, extra = self.base + path, dict(headers or {})
        # A token is per repository and per action: one for reading, another for pushing.
        repo_path = path.split("/manifests/", 1)[0].split("/blobs/", 1)[0]
        scope = (repo_path, method in ("GET", "HEAD"))
        for _attempt in range(5):
            auth = self.authorization.get(scope) if url.startswith(self.base) else None
            reply = send(
                method, url, {**extra, **({"Authorization": auth} if auth else {})}, body, self.timeout
            )
            if reply.status == 401 and url.startswith(self.base) and scope not in self.authorization:
                self.authorization[scope] = self.login(reply.headers)
                continue
            if reply.status in (301, 302, 303, 307, 308) and "Location" in reply.headers:
                url = urllib.parse.urljoin(url, reply.headers["Location"])
                continue
            return reply
        return reply

    def login(self, headers: Mapping[str, str]) -> str:
        challenge = next((v for k, v in headers.items() if k.lower() == "www-authenticate"), "")
        scheme, params = parse_challenge(challenge)
        if scheme == "basic" and self.credentials:
            return basic_header(self.credentials)
        if scheme == "bearer" and "realm" in params:
            auth = {"Authorization": basic_header(self.credentials)} if self.credentials else {}
            reply = send("GET", token_url(params), auth, None, self.timeout)
            if reply.status == 200:
                data = json.loads(reply.body)
                token = data.get("token") or data.get("access_token")
                if token:
                    return f"Bearer {token}"
            log.debug("token request to %s answered %d", params["realm"], reply.status)
        raise ReleasePushError(
            f"the registry {self.host} asks for a login ({scheme or 'no challenge'}) that failed",
            hint=f"run `docker login {self.host}` (build.py reads the `auths` of docker's config.json)",
        )

    def manifest(self, name: str, reference: str, accept: tuple[str, ...]) -> Response:
        return self.request("GET", f"/v2/{name}/manifests/{reference}", {"Accept": ", ".join(accept)})

    def blob(self, name: str, digest: str) -> Response:
        return self.request("GET", f"/v2/{name}/blobs/{digest}")

    def put_manifest(self, name: str, reference: str, media_type: str, body: bytes) -> Response:
        return self.request("PUT", f"/v2/{name}/manifests/{reference}", {"Content-Type": media_type}, body)
