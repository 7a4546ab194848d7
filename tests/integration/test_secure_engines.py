"""Remote engines that are safe to expose: a real dockerd demanding mutual TLS, and a real sshd in
front of the local engine. Runs succeed with the right material (from the environment, a Docker
context, the engines file), fail with one line and 69 without it, and the watchdog reaches both."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from ci.engine.client import Engine
from ci.errors import EngineUnreachableError
from ci.planning import endpoints
from tests.integration.helpers import BUILD_PY, container_names, run_build_py
from tests.integration.secure_engines import SshEngine, TlsEngine, sshd, tls_dockerd

LABEL = "io.ciharness.run-id"

# One worker starts this module's TLS dockerd (its bridge has a fixed name) and sshd.
pytestmark = pytest.mark.xdist_group("secure-engines")


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsEngine]:
    root = Path(subprocess.check_output(["mktemp", "-d", "/tmp/d3-XXXX"], text=True).strip())
    with tls_dockerd(root, 214) as engine:
        yield engine
    subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture(scope="module")
def ssh_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshEngine]:
    with sshd(tmp_path_factory.mktemp("sshd")) as engine:
        yield engine


def tls_env(where: Path, url: str) -> dict[str, str]:
    return {"DOCKER_HOST": url, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(where)}


def docker_context(config: Path, name: str, url: str, certs: Path) -> None:
    """A context made by the real docker CLI (it stores the TLS material itself)."""
    subprocess.run(
        ["docker", "context", "create", name, "--docker",
         f"host={url},ca={certs / 'ca.pem'},cert={certs / 'cert.pem'},key={certs / 'key.pem'}"],
        env={**os.environ, "DOCKER_CONFIG": str(config)}, check=True, capture_output=True,
    )  # fmt: skip


def engines_file(path: Path, platform: str, url: str, certs: Path | None) -> Path:
    text = f'[engines]\n{platform} = "{url}"\n'
    if certs is not None:
        text += (
            f'\n[tls."{url}"]\nca = "{certs}/ca.pem"\ncert = "{certs}/cert.pem"\nkey = "{certs}/key.pem"\n'
        )
    path.write_text(text)
    return path


def test_tls_material_from_env_context_and_file_reaches_the_engine(
    tls_engine: TlsEngine, tmp_path: Path
) -> None:
    url = tls_engine.url
    docker_context(tmp_path / "cfg", "secure", url, tls_engine.good)
    docker_context(tmp_path / "cfg", "forged", url, tls_engine.wrong)
    good_file = engines_file(tmp_path / "good.toml", "amd64", url, tls_engine.good)
    wrong_file = engines_file(tmp_path / "wrong.toml", "amd64", url, tls_engine.wrong)
    right = {
        "env": endpoints.default_endpoint(tls_env(tls_engine.good, url), tmp_path),
        "context": endpoints.resolve_endpoint("context:secure", tmp_path / "cfg"),
        "file": endpoints.resolve_endpoint(url, tmp_path, endpoints.load_access(good_file)),
    }
    wrong = {
        "none": endpoints.Endpoint(url),
        "env": endpoints.default_endpoint(tls_env(tls_engine.wrong, url), tmp_path),
        "context": endpoints.resolve_endpoint("context:forged", tmp_path / "cfg"),
        "file": endpoints.resolve_endpoint(url, tmp_path, endpoints.load_access(wrong_file)),
    }
    for source, endpoint in right.items():
        assert Engine.connect(endpoint).version()["Version"], source
    for source, endpoint in wrong.items():
        with pytest.raises(EngineUnreachableError, match=f"cannot reach the Docker engine at {url}"):
            Engine.connect(endpoint)
        assert source


def owner_with_watchdog(run_id: str, endpoints: list[endpoints.Endpoint]) -> subprocess.Popen[bytes]:
    """A process that starts a watchdog for these engines, as build.py does, then waits."""
    code = (
        "import sys, time; from ci.running import cleanup; from ci.planning import endpoints\n"
        "eps = [endpoints.Endpoint.from_arg(a) for a in sys.argv[2:]]\n"
        "cleanup.start_watchdog(sys.argv[1], dict(__import__('os').environ), eps)\n"
        "print('ready', flush=True); time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, run_id, *[e.to_arg() for e in endpoints]],
        cwd=BUILD_PY.parent, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout and proc.stdout.readline() == b"ready\n"
    return proc


def tiny_image(client: docker.DockerClient) -> str:
    """An empty image, enough to create (never start) a container on an engine without network."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w"):
        pass
    client.api.import_image_from_data(data.getvalue(), repository="ciharness-test/empty", tag="1")
    return "ciharness-test/empty:1"


@pytest.mark.serial  # its owner is SIGKILLed; the watchdog is timed (15 s)
@pytest.mark.usefixtures("amd64_image")
def test_watchdog_reaches_tls_and_ssh_engines(
    tls_engine: TlsEngine, ssh_engine: SshEngine, docker_client: docker.DockerClient, amd64_image: str
) -> None:
    tls = endpoints.default_endpoint(tls_env(tls_engine.good, tls_engine.url), Path("/nonexistent"))
    ssh = endpoints.Endpoint(ssh_engine.url, ssh_config=str(ssh_engine.config))
    remote = Engine.connect(tls).client
    image = tiny_image(remote)
    run_id = "wd-" + uuid.uuid4().hex[:8]
    owner = owner_with_watchdog(run_id, [tls, ssh])
    remote.api.create_container(image, ["true"], labels={LABEL: run_id})
    docker_client.api.create_container(amd64_image, ["sleep", "60"], labels={LABEL: run_id})
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    started = time.monotonic()
    while container_names(remote, [f"{LABEL}={run_id}"]) or container_names(
        docker_client, [f"{LABEL}={run_id}"]
    ):
        assert time.monotonic() < started + 30, "the watchdog did not clean the TLS and SSH engines"
        time.sleep(0.1)
    # Over ssh each connection is a handshake: seconds on a loaded machine, not milliseconds.
    assert time.monotonic() - started < 15


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_build_py_through_tls_needs_the_right_certificates(
    tls_engine: TlsEngine, cache_registry: str, tmp_path: Path
) -> None:
    registry = cache_registry
    pushed = run_build_py("-p", "amd64", "-b", "--docker-registry", registry, "--push-cache")
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    url = tls_engine.url
    config = tmp_path / "cfg"
    docker_context(config, "secure", url, tls_engine.good)
    common = ["-p", "amd64", "--docker-registry", registry, "--", "echo", "ran-over-tls"]
    ways = {
        "env": ([], tls_env(tls_engine.good, url)),
        "context": ([], {"DOCKER_CONTEXT": "secure", "DOCKER_CONFIG": str(config)}),
        "file": (["--engines", str(engines_file(tmp_path / "e.toml", "amd64", url, tls_engine.good))], {}),
    }
    for way, (flags, env) in ways.items():
        result = run_build_py(*flags, "--build-dir", str(tmp_path / f"b-{way}"), *common, env=env)
        assert result.returncode == 0, (way, result.stderr[-3000:])
        assert "ran-over-tls" in result.stdout, way
    failing = {
        "none": (["--docker-host", f"amd64={url}"], {}),
        "wrong": ([], tls_env(tls_engine.wrong, url)),
    }
    for way, (flags, env) in failing.items():
        result = run_build_py(*flags, "--build-dir", str(tmp_path / f"f-{way}"), *common, env=env)
        assert result.returncode == 69, (way, result.stderr[-3000:])
        lines = [line for line in result.stderr.splitlines() if line.strip()]  # one line says it all
        assert len(lines) == 1 and "cannot reach the Docker engine" in lines[0], (way, result.stderr)
        assert "(hint:" in lines[0], (way, result.stderr)
        assert "Traceback" not in result.stderr


@pytest.mark.serial  # its SIGKILLed run leaves a local container for the watchdog (15 s)
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_build_py_over_ssh_builds_tests_and_survives_sigkill(
    ssh_engine: SshEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    env = {"CI_SSH_CONFIG": str(ssh_engine.config)}
    build = tmp_path / "build"
    result = run_build_py("-p", "amd64", "--docker-host", f"amd64={ssh_engine.url}",
                          "--build-dir", str(build), env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    suite = ET.parse(build / "junit" / "ctest-amd64.xml").getroot()  # copied back over ssh
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 12

    proc = subprocess.Popen(
        [sys.executable, str(BUILD_PY), "-p", "amd64", "--docker-host", f"amd64={ssh_engine.url}",
         "--build-dir", str(tmp_path / "k"), "--", "sleep", "60"],
        env={**os.environ, **env}, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    mine = [f"io.ciharness.owner-pid={proc.pid}"]
    deadline = time.monotonic() + 120
    while not container_names(docker_client, mine):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while container_names(docker_client, mine):
        assert time.monotonic() < deadline, "the watchdog did not clean up over ssh"
        time.sleep(0.05)


def test_unreachable_ssh_engine_is_one_line_and_69(ssh_engine: SshEngine, tmp_path: Path) -> None:
    stranger = tmp_path / "ssh_config"  # no key the sshd knows
    stranger.write_text(
        f"Host 127.0.0.1\n  UserKnownHostsFile {ssh_engine.config.parent / 'known_hosts'}\n"
        "  IdentitiesOnly yes\n  IdentityFile /nonexistent\n"
    )
    result = run_build_py(
        "-p", "amd64", "--docker-host", f"amd64={ssh_engine.url}", "--", "true",
        env={"CI_SSH_CONFIG": str(stranger)},
    )  # fmt: skip
    assert result.returncode == 69, result.stderr
    assert "Permission denied" in result.stderr and "(hint:" in result.stderr
    assert "Traceback" not in result.stderr
