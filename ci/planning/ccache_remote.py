"""Decide ccache's shared remote storage (--ccache-remote): check a CCACHE_REMOTE_STORAGE value
the way ccache would parse it, hand ccache the form it authenticates with, hide its passwords,
and say what the container needs to reach it. Pure: text in, text out."""

from __future__ import annotations

import re
from urllib.parse import unquote

from ci.errors import BadCcacheRemoteError

ENV_NAME = "CCACHE_REMOTE_STORAGE"
# Docker 20.10+ resolves this name in a container to the gateway of its network (the engine's
# host) when asked to with --add-host NAME:host-gateway.
HOST_GATEWAY_NAME = "host.docker.internal"
SCHEMES = ("redis", "redis+unix", "http", "file")
HIDDEN = "***"

_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>.*)$")
_AUTHORITY_RE = re.compile(
    r"^//(?:(?P<userinfo>.*)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\[\]]*)(?::(?P<port>[^/?#]*))?"
)
_SECRET_ATTRIBUTE_RE = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL|HEADER", re.IGNORECASE)
_HINT = (
    "give one or more of redis://[[USER:]PASSWORD@]HOST[:PORT], redis+unix:/SOCKET, "
    "http://HOST[:PORT]/PATH or file:///DIR, separated by spaces, each optionally with "
    "|ATTRIBUTE=VALUE suffixes; '' turns it off"
)


def entries(value: str) -> list[str]:
    """The storage entries of a value, as ccache splits them: on whitespace."""
    return value.split()


def validate(value: str) -> str:
    """The value as ccache is to get it (single spaces, each entry in the form ccache
    authenticates with, see for_ccache) when ccache would accept every entry of it; else
    BadCcacheRemoteError naming the first bad entry (its password hidden)."""
    for entry in entries(value):
        problem = _problem(entry)
        if problem:
            raise BadCcacheRemoteError(
                f"--ccache-remote {mask_entry(entry)!r}: {problem}; ccache would refuse it and fail "
                "every compilation",
                hint=_HINT,
            )
    return " ".join(for_ccache(e) for e in entries(value))


def for_ccache(entry: str) -> str:
    """The entry as ccache must get it to send what its writer meant. The Redis URI form with an
    empty user, redis://:PASSWORD@HOST (as redis-cli -u writes it), makes ccache 4.11 send no
    AUTH at all, and every lookup fails with NOAUTH; it becomes redis://PASSWORD@HOST (AUTH
    PASSWORD, every Redis version), or, when the password holds a ':' that ccache would split
    into a user and a password (it splits after %-decoding), redis://default:PASSWORD@HOST
    (AUTH default PASSWORD, Redis 6 and later). Checked against ccache 4.11.2 and Redis 7."""
    url, sep, attributes = entry.partition("|")
    match = _URL_RE.match(url)
    if not match or match["scheme"].lower() not in ("redis", "redis+unix"):
        return entry
    rest = match["rest"]
    authority = _AUTHORITY_RE.match(rest)
    userinfo = authority["userinfo"] if authority and rest.startswith("//") else None
    if authority is None or userinfo is None or not userinfo.startswith(":"):
        return entry
    password = userinfo[1:]
    start, end = authority.span("userinfo")
    if not password:  # redis://:@HOST: no password at all
        rest = rest[:start] + rest[end + 1 :]
    else:
        rest = rest[:start] + ("default:" if ":" in unquote(password) else "") + password + rest[end:]
    return f"{match['scheme']}:{rest}{sep}{attributes}"


def _problem(entry: str) -> str:
    url, *attributes = entry.split("|")
    bad = [a for a in attributes if not a.partition("=")[0] or "=" not in a]
    if bad:
        return f"attribute {attributes.index(bad[0]) + 1} after '|' is not KEY=VALUE"
    return _url_problem(url)


def _url_problem(url: str) -> str:
    match = _URL_RE.match(url)
    if not match:
        return "no URL scheme"
    scheme, rest = match["scheme"].lower(), match["rest"]
    if scheme not in SCHEMES:
        return f"unknown scheme {scheme!r} (ccache knows {', '.join(SCHEMES)})"
    authority = _AUTHORITY_RE.match(rest) if rest.startswith("//") else None
    if scheme in ("file", "redis+unix"):
        return _path_problem(scheme, rest, authority)
    return _host_problem(scheme, authority)


def _host_problem(scheme: str, authority: re.Match[str] | None) -> str:
    if authority is None or not authority["host"]:
        return f"a {scheme} URL needs a host, e.g. {scheme}://HOST:PORT"
    if "@" in (authority["userinfo"] or ""):  # ccache: "Host address in '...' is invalid"
        return "an '@' in the user info must be written %40"
    port = authority["port"]
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        return f"port {port!r} is not a number from 1 to 65535"
    return ""


def _path_problem(scheme: str, rest: str, authority: re.Match[str] | None) -> str:
    if authority is not None and authority["userinfo"] is not None and not authority["host"]:
        # ccache: "User info defined, but host is empty"
        return f"user info needs a host before the path, e.g. {scheme}://PASSWORD@localhost/PATH"
    path = _AUTHORITY_RE.sub("", rest) if authority is not None else rest
    return "" if path.startswith("/") else f"a {scheme} URL needs an absolute path"


def mask_entry(entry: str) -> str:
    """The entry with its user info (redis: [USER:]PASSWORD; http: USER:PASSWORD) and the values
    of secret-looking attributes replaced by ***."""
    url, *attributes = entry.split("|")
    scheme_end = url.find("://")
    if scheme_end >= 0:
        start = scheme_end + 3
        at = url.rfind("@", start)
        if at >= 0:
            url = url[:start] + HIDDEN + url[at:]
    shown = [url]
    for attribute in attributes:
        key, sep, _ = attribute.partition("=")
        shown.append(f"{key}={HIDDEN}" if sep and _SECRET_ATTRIBUTE_RE.search(key) else attribute)
    return "|".join(shown)


def mask(value: str) -> str:
    """The value as it may be printed: every entry masked."""
    return " ".join(mask_entry(e) for e in entries(value))


def has_secret(value: str) -> bool:
    return mask(value) != " ".join(entries(value))


def needs_host_gateway(value: str) -> bool:
    """Whether an entry names host.docker.internal, which the container must be told about."""
    return any(_host_of(e) == HOST_GATEWAY_NAME for e in entries(value))


def extra_hosts(value: str, engine_kind: str) -> tuple[tuple[str, str], ...]:
    """Docker (20.10+) maps host.docker.internal to the engine host's gateway address when asked;
    only when the value names it (podman has host.containers.internal of its own)."""
    if engine_kind == "docker" and needs_host_gateway(value):
        return ((HOST_GATEWAY_NAME, "host-gateway"),)
    return ()


def _host_of(entry: str) -> str:
    match = _URL_RE.match(entry.split("|", maxsplit=1)[0])
    if not match:
        return ""
    authority = _AUTHORITY_RE.match(match["rest"])
    return (authority["host"] or "").lower() if authority else ""
