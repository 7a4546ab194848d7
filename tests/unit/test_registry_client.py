"""The registry client's pure parts: repository names, http or https, credentials from docker's
config.json, and the WWW-Authenticate challenge. (tests/integration/test_split_release.py
drives the client against real registries.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ci.release.registry import (
    DOCKER_HUB,
    basic_header,
    credentials_for,
    load_docker_config,
    parse_challenge,
    scheme_for,
    split_repository,
    token_url,
)
from ci.settings.options import parse_args


@pytest.mark.parametrize(
    ("repository", "split"),
    [
        ("127.0.0.1:5000/xsum", ("127.0.0.1:5000", "xsum")),
        ("registry.example.com/team/xsum", ("registry.example.com", "team/xsum")),
        ("localhost/xsum", ("localhost", "xsum")),
        ("team/xsum", (DOCKER_HUB, "team/xsum")),
        ("xsum", (DOCKER_HUB, "library/xsum")),
    ],
)
def test_split_repository(repository: str, split: tuple[str, str]) -> None:
    assert split_repository(repository) == split


def test_plain_http_only_for_loopback_and_named_hosts() -> None:
    assert scheme_for("127.0.0.1:5000", "") == "http"
    assert scheme_for("localhost:5000", "") == "http"
    assert scheme_for("[::1]:5000", "") == "http"
    assert scheme_for("registry.example.com", "") == "https"
    assert scheme_for("127.example.com", "") == "https"
    insecure = parse_args(["-l"], {"CI_INSECURE_REGISTRIES": "lab:5000, other"}).insecure_registries
    assert scheme_for("lab:5000", insecure) == "http" and scheme_for("other", insecure) == "http"
    assert scheme_for("lab", insecure) == "https"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_from_every_key_form_docker_writes() -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": auth("hub", "p1")},
            "registry.example.com": {"auth": auth("me", "pa:ss")},
            "https://lab.example.com/v2/": {"username": "u", "password": "p"},
            "broken.example.com": "not a dict",
        }
    }
    assert credentials_for(DOCKER_HUB, config) == ("hub", "p1")
    assert credentials_for("registry.example.com", config) == ("me", "pa:ss")
    assert credentials_for("lab.example.com", config) == ("u", "p")
    assert credentials_for("broken.example.com", config) is None
    assert credentials_for("other.example.com", config) is None
    assert credentials_for("x", {"credsStore": "desktop"}) is None


def test_config_is_read_from_docker_config_or_home(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.json").write_text(json.dumps({"auths": {"h": {"auth": auth("a", "b")}}}))
    assert credentials_for("h", load_docker_config({"DOCKER_CONFIG": str(tmp_path / "c")}, tmp_path)) == (
        "a",
        "b",
    )
    assert load_docker_config({}, tmp_path) == {}  # no ~/.docker/config.json: no credentials
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text("{not json")
    assert load_docker_config({}, tmp_path) == {}


def test_bearer_challenge_and_token_url() -> None:
    header = 'Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a/b:pull,push"'
    scheme, params = parse_challenge(header)
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.example.com/token",
        "service": "reg",
        "scope": "repository:a/b:pull,push",
    }
    assert (
        token_url(params)
        == "https://auth.example.com/token?service=reg&scope=repository%3Aa%2Fb%3Apull%2Cpush"
    )
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})
    assert basic_header(("me", "pw")) == "Basic " + auth("me", "pw")
