"""Which engine runs which platform: flags, the engines file, DOCKER_HOST, Docker contexts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ci import engines
from ci.errors import UsageError


def make_context(config: Path, name: str, host: str) -> None:
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_parse_pairs_and_malformed_ones() -> None:
    assert engines.parse_pairs(["arm64=tcp://a:2375", "armv7=unix:///x.sock"]) == {
        "arm64": "tcp://a:2375",
        "armv7": "unix:///x.sock",
    }
    for bad in ("arm64", "=tcp://a", "arm64="):
        with pytest.raises(UsageError, match="PLATFORM=URL"):
            engines.parse_pairs([bad])


def test_flags_beat_the_file_which_beats_the_default(tmp_path: Path) -> None:
    table = {"arm64": "tcp://file:1", "armv7": "tcp://file:2", "*": "unix:///rest.sock"}
    chosen = engines.engine_for(
        ["amd64", "arm64", "armv7"],
        pairs={"arm64": "tcp://flag:1"},
        file_table=table,
        env={"DOCKER_HOST": "unix:///env.sock"},
        docker_config=tmp_path,
    )
    assert chosen == {"amd64": "unix:///rest.sock", "arm64": "tcp://flag:1", "armv7": "tcp://file:2"}


def test_default_comes_from_docker_host_then_context_then_local(tmp_path: Path) -> None:
    make_context(tmp_path, "builders", "tcp://ctx:2376")
    assert (
        engines.default_url({"DOCKER_HOST": "tcp://h:1", "DOCKER_CONTEXT": "builders"}, tmp_path)
        == "tcp://h:1"
    )
    assert engines.default_url({"DOCKER_CONTEXT": "builders"}, tmp_path) == "tcp://ctx:2376"
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "builders"}))
    assert engines.default_url({}, tmp_path) == "tcp://ctx:2376"
    assert engines.default_url({}, tmp_path / "none") == engines.LOCAL
    assert engines.default_url({"DOCKER_CONTEXT": "default"}, tmp_path) == engines.LOCAL


def test_context_urls_and_unknown_contexts(tmp_path: Path) -> None:
    make_context(tmp_path, "arm", "ssh://me@arm-box")
    assert engines.resolve("context:arm", tmp_path) == "ssh://me@arm-box"
    with pytest.raises(UsageError, match="unknown Docker context 'nope'"):
        engines.resolve("context:nope", tmp_path)


@pytest.mark.parametrize("url", ["http://x:2375", "arm-box:2375", "tcp:/x"])
def test_invalid_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not unix://"):
        engines.resolve(url, tmp_path)


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "engines.toml"
    path.write_text('[engines]\narm64 = "tcp://arm:2375"\n"*" = "unix:///var/run/docker.sock"\n')
    assert engines.load_file(path) == {"arm64": "tcp://arm:2375", "*": "unix:///var/run/docker.sock"}
    path.write_text("[engines]\narm64 = 3\n")
    with pytest.raises(UsageError, match="expected an \\[engines\\] table"):
        engines.load_file(path)
    path.write_text("[engines\n")
    with pytest.raises(UsageError, match="cannot read the engines file"):
        engines.load_file(path)


def test_remote_means_another_machine() -> None:
    assert engines.is_remote("tcp://127.0.0.1:2375") and engines.is_remote("ssh://me@box")
    assert not engines.is_remote("unix:///var/run/docker.sock") and not engines.is_remote(engines.LOCAL)
