"""Unit tier: pure logic only. Any attempt to reach a Docker engine fails the test loudly."""

from __future__ import annotations

from typing import NoReturn

import pytest

import docker

NO_DOCKER = "unit tests must not touch Docker"


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise AssertionError(NO_DOCKER)


@pytest.fixture(autouse=True)
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way ci.engine (or anything else) could open a client raises AssertionError."""
    for name in ("DockerClient", "APIClient", "from_env"):
        monkeypatch.setattr(docker, name, _refuse)
    for name in ("DockerClient", "APIClient", "from_env"):
        monkeypatch.setattr(docker.client, name, _refuse)
