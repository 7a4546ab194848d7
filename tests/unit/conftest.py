"""Unit tier: pure logic only. Any attempt to reach a Docker engine fails the test loudly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

import docker
from ci.engine import api

NO_DOCKER = "unit tests must not touch Docker"


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise AssertionError(NO_DOCKER)


@pytest.fixture(autouse=True)
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way ci.engine.client (or anything else) could open a client raises AssertionError."""
    for module in (docker, docker.client):
        for name in ("DockerClient", "APIClient", "from_env"):
            monkeypatch.setattr(module, name, _refuse)
    monkeypatch.setattr(api.EngineApi, "open", _refuse)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """ci.cli.main() binds the 'ci' logger to the stderr of the moment (a capture): undo that."""
    logger = logging.getLogger("ci")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout to plan against: three platforms' Dockerfiles, a step script, a CMake source."""
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    for name, target in (("amd64", ""), ("other", ""), ("arm64", "# ci.target: linux/arm64\n")):
        (docker_dir / f"Dockerfile.build.{name}").write_text(
            f"{target}FROM debian:trixie\n", encoding="utf-8"
        )
    (tmp_path / "runtime_functions.sh").write_text(
        "build_generic() {\n}\nbuild_other() {\n}\nstep() {\n}\n", encoding="utf-8"
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text("project(p C)\n", encoding="utf-8")
    return tmp_path
