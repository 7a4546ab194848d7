"""The unit tier's guard: reaching for Docker fails loudly, and valid input gets that far."""

from __future__ import annotations

import platform as platform_module
from pathlib import Path

import pytest

import docker
from ci.cli import main
from ci.engine.client import Engine
from ci.errors import ExitCode


@pytest.mark.parametrize("base_url", [None, "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375"])
def test_engine_connect_is_refused(base_url: str | None) -> None:
    with pytest.raises(AssertionError, match="unit tests must not touch Docker"):
        Engine.connect(base_url)


def test_sdk_entry_points_are_refused() -> None:
    with pytest.raises(AssertionError, match="unit tests must not touch Docker"):
        docker.from_env()
    with pytest.raises(AssertionError, match="unit tests must not touch Docker"):
        docker.DockerClient(base_url="unix:///var/run/docker.sock")


def test_valid_input_passes_every_check_before_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(platform_module, "machine", lambda: "x86_64")
    monkeypatch.chdir(tmp_path)
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "Dockerfile.build.amd64").write_text("FROM debian:bookworm\n", encoding="utf-8")
    script = tmp_path / "runtime_functions.sh"
    script.write_text("build_generic() {\n}\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "meson.build").write_text("project('p', 'c')\n", encoding="utf-8")
    argv = [
        *("-p", "amd64", "--print-docker-run", "-e", "A=B=C"),
        *("--docker-dir", str(docker_dir), "--runtime-functions", str(script)),
        *("--source", str(tmp_path / "src"), "--ccache-dir", str(tmp_path / "ccache")),
    ]
    # The first thing after the checks is connecting, which the unit tier turns into an
    # internal error: proof that no check rejected the input, and that nothing ran.
    assert main(argv, env={}) == ExitCode.INTERNAL
    captured = capsys.readouterr()
    assert "unit tests must not touch Docker" in captured.err
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docker", "runtime_functions.sh", "src"]


def test_watchdog_run_label_is_the_cleanup_label() -> None:
    from ci.running import cleanup, watchdog

    assert watchdog.RUN_LABEL == cleanup.RUN_LABEL
