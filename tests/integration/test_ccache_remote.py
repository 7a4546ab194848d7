"""--ccache-remote against a real redis-server that each test starts on a free port of the
engine's bridge gateway (the address containers reach) and stops: a cache shared by every
agent, a fresh agent served from it, a Redis that is down or silent, one with a password (in
each form ccache is given it, and a wrong or missing one), two platforms."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import run_build_py

UNITS = 10
PASSWORD = "Hunter2-redis-s3cret"  # noqa: S105 (the test Redis's own)
REPORT = re.compile(r"(\w+): ok.*ccache (\d+) hits, (\d+) misses \((\d+)%; (\d+) local, (\d+) remote\)")
WARNING = "ccache remote storage"

pytestmark = pytest.mark.usefixtures("amd64_image", "no_leftovers")


class Redis:
    """One redis-server process, no persistence, bound to the bridge gateway."""

    def __init__(self, address: str, password: str | None = None) -> None:
        self.address = address
        with socket.socket() as probe:
            probe.bind((address, 0))
            self.port = probe.getsockname()[1]
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.password + '@' if self.password else ''}{self.address}:{self.port}"

    def start(self) -> Redis:
        argv = ["redis-server", "--port", str(self.port), "--bind", self.address, "--save", ""]
        argv += ["--appendonly", "no", "--daemonize", "no"]
        argv += ["--requirepass", self.password] if self.password else ["--protected-mode", "no"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.05)
        return self

    def cli(self, *command: str) -> str:
        env = {**os.environ, "REDISCLI_AUTH": self.password} if self.password else None
        argv = ["redis-cli", "-h", self.address, "-p", str(self.port), *command]
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False).stdout.strip()

    def dbsize(self) -> int:
        return int(self.cli("DBSIZE"))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="module")
def gateway(docker_client: docker.DockerClient) -> str:
    """The default bridge's gateway: containers on it reach a server bound there. dockerd 20.10
    leaves it out of the network's IPAM config; it is the bridge interface's own address."""
    attrs = docker_client.networks.get("bridge").attrs
    if attrs["IPAM"]["Config"][0].get("Gateway"):
        return str(attrs["IPAM"]["Config"][0]["Gateway"])
    interface = attrs["Options"].get("com.docker.network.bridge.name", "docker0")
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", interface], capture_output=True, text=True, check=True
    )
    return shown.stdout.split(" inet ", 1)[1].split("/", 1)[0]


@pytest.fixture
def redis(gateway: str) -> Iterator[Callable[..., Redis]]:
    started: list[Redis] = []

    def make(password: str | None = None, start: bool = True) -> Redis:
        server = Redis(gateway, password)
        started.append(server)
        return server.start() if start else server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A C project of UNITS translation units and one test, so hit rates mean something."""
    root = tmp_path_factory.mktemp("remote-src")
    names = [f"unit{i}" for i in range(UNITS)]
    for i, name in enumerate(names):
        (root / f"{name}.c").write_text(
            f"#include <string.h>\nunsigned {name}(const char *s) {{\n"
            f"  unsigned h = {i}u;\n"
            "  for (size_t k = 0; k < strlen(s); k++) h = h * 31u + (unsigned char)s[k];\n"
            "  return h;\n}\n",
            encoding="utf-8",
        )
    calls = " + ".join(f"{n}(argv[0])" for n in names)
    decls = "".join(f"unsigned {n}(const char *);\n" for n in names)
    (root / "main.c").write_text(
        f"{decls}int main(int argc, char **argv) {{\n  (void)argc;\n  return ({calls}) == 0u;\n}}\n",
        encoding="utf-8",
    )
    sources = " ".join(f"{n}.c" for n in names)
    (root / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\nproject(remote C)\nenable_testing()\n"
        f"add_executable(remote main.c {sources})\nadd_test(NAME runs COMMAND remote)\n",
        encoding="utf-8",
    )
    return root


def build(project: Path, work: Path, name: str, *extra: str, platforms: str = "amd64") -> tuple[str, str]:
    """./build.py on the project with a build dir and a local ccache dir of their own (a fresh
    agent when `name` is new); (stdout, stderr), the run having passed."""
    several = "," in platforms
    build_dir = ["--build-dir", str(work / f"build-{name}")] if not several else []
    result = run_build_py(
        "-p", platforms, "--source", str(project), *build_dir, "--ccache-dir", str(work / f"ccache-{name}"),
        *extra, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def reports(stderr: str) -> dict[str, tuple[int, int, int, int]]:
    """platform -> (hits, misses, local hits, remote hits) from each run's report line."""
    return {m[1]: (int(m[2]), int(m[3]), int(m[5]), int(m[6])) for m in REPORT.finditer(stderr)}


def test_a_fresh_agent_gets_its_compilations_from_the_redis_a_cold_build_filled(
    project: Path, tmp_path: Path, redis: Callable[..., Redis]
) -> None:
    server = redis()
    assert server.dbsize() == 0
    _, cold = build(project, tmp_path, "agent1", "--ccache-remote", server.url)
    hits, misses, _, _ = reports(cold)["amd64"]
    assert misses >= UNITS + 1 and hits == 0
    assert server.dbsize() >= UNITS + 1  # a result (and a manifest) per compilation

    # Another agent: empty build dir, empty local ccache dir, the URL from CI_CCACHE_REMOTE and
    # naming the engine's host as host.docker.internal (--add-host ...:host-gateway).
    url = f"redis://host.docker.internal:{server.port}"
    fresh = run_build_py(
        "-p", "amd64", "--source", str(project), "--build-dir", str(tmp_path / "build-agent2"),
        "--ccache-dir", str(tmp_path / "ccache-agent2"), env={"CI_CCACHE_REMOTE": url}, cwd=tmp_path,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    hits, misses, local, remote = reports(fresh.stderr)["amd64"]
    assert hits + misses >= UNITS + 1
    assert remote / (hits + misses) >= 0.99 and local == 0
    assert WARNING not in fresh.stderr


@pytest.mark.parametrize(("trouble", "cause"), [("down", "connection refused"), ("slow", "timed out")])
def test_a_redis_that_is_down_or_slow_is_one_warning_and_the_build_goes_on(
    project: Path, tmp_path: Path, redis: Callable[..., Redis], trouble: str, cause: str
) -> None:
    server = redis(start=False)  # its port is free: nothing answers there
    url = server.url
    with socket.socket() as silent:
        if trouble == "slow":  # connections are queued by the kernel, never answered
            silent.bind((server.address, server.port))
            silent.listen(64)
            url += "|connect-timeout=200|operation-timeout=200"
        _, stderr = build(project, tmp_path, trouble, "--ccache-remote", url)
    hits, misses, _, remote = reports(stderr)["amd64"]
    assert misses >= UNITS + 1 and hits == remote == 0
    warnings = [line for line in stderr.splitlines() if WARNING in line]
    assert len(warnings) == 1, stderr
    assert f"failed for {misses} of {misses}" in warnings[0]
    assert f"({cause}: ccache says " in warnings[0]  # why, from ccache's own log
    ccache_log = tmp_path / f"build-{trouble}" / ".ciharness-ccache.log"
    assert str(ccache_log) in warnings[0] and ccache_log.is_file()


def test_a_password_protected_redis_works_and_its_password_is_never_shown(
    project: Path, tmp_path: Path, redis: Callable[..., Redis]
) -> None:
    server = redis(password=PASSWORD)
    assert PASSWORD in server.url
    cold_out, cold_err = build(project, tmp_path, "pw1", "--ccache-remote", server.url, "--debug")
    assert server.dbsize() >= UNITS + 1
    out, err = build(project, tmp_path, "pw2", "--ccache-remote", server.url)
    _, _, _, remote = reports(err)["amd64"]
    assert remote >= UNITS + 1

    # The printed line names the variable only; pasted with it exported, ccache authenticates
    # and stores a new result.
    compile_one = "echo 'int pasted(void) { return 7; }' > /tmp/p.c && ccache gcc -c /tmp/p.c -o /tmp/p.o"
    line, printed_err = build(
        project,
        tmp_path,
        "pw3",
        "--ccache-remote",
        server.url,
        "--print-docker-run",
        "--",
        "sh",
        "-c",
        compile_one,
    )
    argv = shlex.split(line)
    assert argv[argv.index("CCACHE_REMOTE_STORAGE") - 1] == "--env"
    assert "CCACHE_REMOTE_STORAGE" in printed_err and "export them" in printed_err
    before = server.dbsize()
    (tmp_path / "build-pw3").mkdir(exist_ok=True)  # the print made its layer dirs
    assert "owner-pid" not in line  # a pasted line is nobody's run: no build.py reaps it
    pasted = subprocess.run(
        ["bash", "-c", line], env={**os.environ, "CCACHE_REMOTE_STORAGE": server.url},
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert pasted.returncode == 0, pasted.stderr
    stats = (tmp_path / "build-pw3" / ".ciharness-ccache-stats.log").read_text(encoding="utf-8")
    assert "remote_storage_write" in stats and "remote_storage_error" not in stats
    assert server.dbsize() > before

    bad = run_build_py("-p", "amd64", "--ccache-remote", f"rediss://{PASSWORD}@x:1", "--debug", cwd=tmp_path)
    assert bad.returncode == 84 and "unknown scheme 'rediss'" in bad.stderr
    for text in (cold_out, cold_err, out, err, line, printed_err, bad.stdout, bad.stderr):
        assert PASSWORD not in text


def test_the_empty_user_form_redis_cli_writes_authenticates_and_a_fresh_agent_gets_remote_hits(
    project: Path, tmp_path: Path, redis: Callable[..., Redis]
) -> None:
    """redis://:PASSWORD@HOST:PORT: ccache 4.11 sent no AUTH for it (every lookup NOAUTH);
    build.py hands ccache the password alone."""
    server = redis(password=PASSWORD)
    url = f"redis://:{PASSWORD}@{server.address}:{server.port}"
    cold_out, cold_err = build(project, tmp_path, "empty-user1", "--ccache-remote", url, "--debug")
    assert WARNING not in cold_err
    assert server.dbsize() >= UNITS + 1
    out, err = build(project, tmp_path, "empty-user2", "--ccache-remote", url)  # a fresh build dir
    hits, misses, local, remote = reports(err)["amd64"]
    assert hits + misses >= UNITS + 1
    assert remote / (hits + misses) >= 0.99 and local == 0
    assert WARNING not in err
    assert not (tmp_path / "build-empty-user2" / ".ciharness-ccache.log").exists()  # kept after failures only
    for text in (cold_out, cold_err, out, err):
        assert PASSWORD not in text


@pytest.mark.parametrize(
    ("password", "ccache_says", "hint"),
    [
        ("wrong", "WRONGPASS", "the server refused the URL's password"),
        ("", "NOAUTH", "the server wants a password and ccache sent none"),
    ],
)
def test_a_wrong_or_missing_password_is_a_warning_naming_authentication(
    project: Path, tmp_path: Path, redis: Callable[..., Redis], password: str, ccache_says: str, hint: str
) -> None:
    server = redis(password=PASSWORD)
    given = f"redis://:{password}-{PASSWORD}@" if password else "redis://"
    url = f"{given}{server.address}:{server.port}"
    _, stderr = build(project, tmp_path, f"auth-{password or 'none'}", "--ccache-remote", url)
    hits, misses, _, remote = reports(stderr)["amd64"]
    assert misses >= UNITS + 1 and hits == remote == 0
    (warning,) = [line for line in stderr.splitlines() if WARNING in line]
    assert f"failed for {misses} of {misses} compilation(s) (authentication: ccache says " in warning
    assert ccache_says in warning and f"hint: {hint}" in warning
    assert "down, refusing or too slow" not in warning and PASSWORD not in stderr
    assert server.dbsize() == 0


def test_two_platforms_at_once_share_one_redis(
    project: Path, tmp_path: Path, redis: Callable[..., Redis]
) -> None:
    server = redis()
    build(project, tmp_path, "multi1", "--ccache-remote", server.url, platforms="amd64,armv7")
    filled = server.dbsize()
    assert filled >= 2 * (UNITS + 1)  # each architecture's compiler makes its own keys
    for name in ("amd64", "armv7"):  # the cold builds' own build dirs are left for the next test
        (tmp_path / f"build.{name}").rename(tmp_path / f"cold.{name}")
    _, warm = build(project, tmp_path, "multi2", "--ccache-remote", server.url, platforms="amd64,armv7")
    header = next(line for line in warm.splitlines() if line.startswith("platform"))
    assert header.split()[-2:] == ["remote", "hits"]
    for name in ("amd64", "armv7"):
        row = next(line for line in warm.splitlines() if line.startswith(name + " "))
        remote, total = re.findall(r"(\d+)/(\d+)", row)[-1]
        assert int(remote) == int(total) >= UNITS + 1, warm
    assert server.dbsize() == filled  # nothing new to store: every result was there
