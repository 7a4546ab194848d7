"""Which engine runs which platform: flags, the engines file, DOCKER_HOST, Docker contexts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ci.errors import InsecureEngineError, UsageError
from ci.planning import endpoints


def make_context(config: Path, name: str, host: str) -> None:
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_parse_pairs_and_malformed_ones() -> None:
    assert endpoints.parse_pairs(["arm64=tcp://a:2375", "armv7=unix:///x.sock"]) == {
        "arm64": "tcp://a:2375",
        "armv7": "unix:///x.sock",
    }
    for bad in ("arm64", "=tcp://a", "arm64="):
        with pytest.raises(UsageError, match="PLATFORM=URL"):
            endpoints.parse_pairs([bad])


def test_flags_beat_the_file_which_beats_the_default(tmp_path: Path) -> None:
    table = {"arm64": "tcp://file:1", "armv7": "tcp://file:2", "*": "unix:///rest.sock"}
    chosen = endpoints.endpoints_for(
        ["amd64", "arm64", "armv7"],
        pairs={"arm64": "tcp://flag:1"},
        file_table=table,
        access={},
        env={"DOCKER_HOST": "unix:///env.sock"},
        docker_config=tmp_path,
    )
    assert {p: e.url for p, e in chosen.items()} == {
        "amd64": "unix:///rest.sock",
        "arm64": "tcp://flag:1",
        "armv7": "tcp://file:2",
    }


def test_default_comes_from_docker_host_then_context_then_local(tmp_path: Path) -> None:
    make_context(tmp_path, "builders", "tcp://ctx:2376")
    assert (
        endpoints.default_endpoint({"DOCKER_HOST": "tcp://h:1", "DOCKER_CONTEXT": "builders"}, tmp_path).url
        == "tcp://h:1"
    )
    assert endpoints.default_endpoint({"DOCKER_CONTEXT": "builders"}, tmp_path).url == "tcp://ctx:2376"
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "builders"}))
    assert endpoints.default_endpoint({}, tmp_path).url == "tcp://ctx:2376"
    assert endpoints.default_endpoint({}, tmp_path / "none").url == endpoints.LOCAL
    assert endpoints.default_endpoint({"DOCKER_CONTEXT": "default"}, tmp_path).url == endpoints.LOCAL


def test_context_urls_and_unknown_contexts(tmp_path: Path) -> None:
    make_context(tmp_path, "arm", "ssh://me@arm-box")
    assert endpoints.resolve_endpoint("context:arm", tmp_path).url == "ssh://me@arm-box"
    with pytest.raises(UsageError, match="unknown Docker context 'nope'"):
        endpoints.resolve_endpoint("context:nope", tmp_path)


@pytest.mark.parametrize("url", ["http://x:2375", "arm-box:2375", "tcp:/x"])
def test_invalid_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not unix://"):
        endpoints.resolve_endpoint(url, tmp_path)


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text('[engines]\narm64 = "tcp://arm:2375"\n"*" = "unix:///var/run/docker.sock"\n')
    assert endpoints.load_file(path) == {"arm64": "tcp://arm:2375", "*": "unix:///var/run/docker.sock"}
    path.write_text("[engines]\narm64 = 3\n")
    with pytest.raises(UsageError, match="expected an \\[engines\\] table"):
        endpoints.load_file(path)
    path.write_text("[engines\n")
    with pytest.raises(UsageError, match="cannot read the engines file"):
        endpoints.load_file(path)


def test_remote_means_another_machine() -> None:
    assert endpoints.is_remote("tcp://127.0.0.1:2375") and endpoints.is_remote("ssh://me@box")
    assert not endpoints.is_remote("unix:///var/run/docker.sock") and not endpoints.is_remote(endpoints.LOCAL)


def make_tls_context(config: Path, name: str, host: str, skip: bool) -> Path:
    """As `docker context create NAME --docker host=...,ca=...,cert=...,key=...` stores it."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": skip}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": endpoint}}))
    tls = config / "contexts" / "tls" / digest / "docker"
    tls.mkdir(parents=True)
    for stem in ("ca", "cert", "key"):
        (tls / f"{stem}.pem").write_text(stem)
    return tls


def test_context_tls_material_and_skip_verify(tmp_path: Path) -> None:
    tls = make_tls_context(tmp_path, "secure", "tcp://b:2376", skip=False)
    found = endpoints.resolve_endpoint("context:secure", tmp_path)
    want = endpoints.Tls(ca=str(tls / "ca.pem"), cert=str(tls / "cert.pem"), key=str(tls / "key.pem"))
    assert found == endpoints.Endpoint("tcp://b:2376", want)
    make_tls_context(tmp_path, "lax", "tcp://c:2376", skip=True)
    lax = endpoints.resolve_endpoint("context:lax", tmp_path).tls
    assert lax is not None and not lax.verify


def test_tls_from_the_environment(tmp_path: Path) -> None:
    for stem in ("ca", "cert", "key"):
        (tmp_path / f"{stem}.pem").write_text(stem)
    env = {"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}
    assert endpoints.default_endpoint(env, Path("/none")).tls == endpoints.Tls(
        ca=str(tmp_path / "ca.pem"), cert=str(tmp_path / "cert.pem"), key=str(tmp_path / "key.pem")
    )
    assert endpoints.default_endpoint({"DOCKER_HOST": "tcp://h:2375"}, tmp_path).tls is None
    no_verify = endpoints.default_endpoint({"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS": "1"}, tmp_path).tls
    assert no_verify is not None and not no_verify.verify


def test_engines_file_tls_and_ssh_tables(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text(
        '[engines]\narm64 = "tcp://a:2376"\nriscv64 = "ssh://me@r"\n'
        '[tls."tcp://a:2376"]\nca = "c/ca.pem"\ncert = "c/cert.pem"\nkey = "/abs/key.pem"\nverify = false\n'
        '[ssh."ssh://me@r"]\nconfig = "ssh_config"\n'
    )
    chosen = endpoints.endpoints_for(
        ["arm64", "riscv64", "amd64"],
        pairs={},
        file_table=endpoints.load_file(path),
        access=endpoints.load_access(path),
        env={},
        docker_config=tmp_path / "none",
    )
    assert chosen["arm64"].tls == endpoints.Tls(
        ca=str(tmp_path / "c/ca.pem"), cert=str(tmp_path / "c/cert.pem"), key="/abs/key.pem", verify=False
    )
    assert chosen["riscv64"].ssh_config == str(tmp_path / "ssh_config")
    assert chosen["amd64"] == endpoints.Endpoint(endpoints.LOCAL)
    path.write_text('[tls."tcp://a:2376"]\nca = 3\n')
    with pytest.raises(UsageError, match="takes ca, cert, key, verify"):
        endpoints.load_access(path)
    path.write_text('[ssh."ssh://me@r"]\nidentity = "x"\n')
    with pytest.raises(UsageError, match="not identity"):
        endpoints.load_access(path)


def test_ssh_config_from_the_environment_when_the_file_names_none(tmp_path: Path) -> None:
    chosen = endpoints.endpoints_for(
        ["a", "b"],
        pairs={"a": "ssh://me@x", "b": "tcp://127.0.0.1:2375"},
        file_table={},
        access={},
        env={},
        docker_config=tmp_path,
        ssh_config="/etc/ci/ssh_config",  # the ssh-config setting (CI_SSH_CONFIG)
    )
    assert chosen["a"].ssh_config == "/etc/ci/ssh_config" and chosen["b"].ssh_config is None


def test_endpoint_survives_the_watchdog_command_line() -> None:
    endpoint = endpoints.Endpoint("tcp://h:2376", endpoints.Tls(ca="/c a.pem", verify=False), None)
    assert endpoints.Endpoint.from_arg(endpoint.to_arg()) == endpoint
    assert endpoints.Endpoint.from_arg("-") == endpoints.Endpoint("")
    assert endpoints.Endpoint.from_arg("unix:///x.sock") == endpoints.Endpoint("unix:///x.sock")


@pytest.mark.parametrize(
    ("url", "tls", "opt_in", "refused"),
    [
        ("tcp://arm:2375", None, "", True),
        ("tcp://arm:2375", None, "1", False),
        ("tcp://arm:2375", None, "tcp://other:2375, tcp://arm:2375", False),
        ("tcp://arm:2376", endpoints.Tls(ca="ca.pem"), "", False),
        ("tcp://127.0.0.1:2375", None, "", False),
        ("tcp://[::1]:2375", None, "", False),
        ("tcp://localhost:2375", None, "", False),
        ("ssh://me@arm", None, "", False),
        ("unix:///var/run/docker.sock", None, "", False),
    ],
)
def test_plain_tcp_off_loopback_is_refused(
    url: str, tls: endpoints.Tls | None, opt_in: str, refused: bool
) -> None:
    endpoint = endpoints.Endpoint(url, tls)
    if refused:
        with pytest.raises(InsecureEngineError, match="plain TCP without TLS") as caught:
            endpoints.check_secure(endpoint, opt_in)
        assert "CI_INSECURE_ENGINES=tcp://arm:2375" in caught.value.hint
    else:
        endpoints.check_secure(endpoint, opt_in)


def test_unreachable_hints_say_what_to_check() -> None:
    assert "ssh HOST" in endpoints.unreachable_hint(
        endpoints.Endpoint("ssh://me@x"), "Permission denied", "d"
    )
    tls = endpoints.Endpoint("tcp://h:2376", endpoints.Tls(ca="c"))
    assert "certificate" in endpoints.unreachable_hint(tls, "boom", "d")
    plain = endpoints.Endpoint("tcp://h:2376")
    https = "Client sent an HTTP request to an HTTPS server"
    assert "wants TLS" in endpoints.unreachable_hint(plain, https, "d")
    assert endpoints.unreachable_hint(plain, "Connection refused", "d") == "d"


def test_ssh_command_line() -> None:
    from ci.engine.sshbridge import ssh_argv

    assert ssh_argv("ssh://me@box:2222", "/c", "/d/control") == [
        "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
        "-o", "ControlMaster=auto", "-o", "ControlPath=/d/control", "-o", "ControlPersist=no",
        "-F", "/c", "-p", "2222", "-l", "me", "--", "box", "docker", "system", "dial-stdio",
    ]  # fmt: skip
    assert ssh_argv("ssh://box", None)[-5:] == ["--", "box", "docker", "system", "dial-stdio"]
