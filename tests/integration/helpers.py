"""Plain helpers the integration tests share (fixtures live in conftest.py): running build.py,
listing our containers, small platforms, a pseudo-terminal, a real registry, test dockerds."""

from __future__ import annotations

import contextlib
import os
import pty
import pwd
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

import docker
from ci.running.cleanup import owner_alive

REPO = Path(__file__).resolve().parents[2]
BUILD_PY = REPO / "build.py"
LABEL = "io.ciharness.run-id"
TEST_USER = "ciharness-it"  # the non-root user (in the docker group) some tests run as

# The arm64 userland's image (test.arm64) and the arm64 platform's native image (made on an arm64
# engine: test_native_arm64.py) share their slow first layers, Debian's build tools installed
# under QEMU: built one after the other on one worker, the second takes them from the build
# cache; built at once, both pay for them.
ARM64_USERLAND = pytest.mark.xdist_group("arm64-userland")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_build_py(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
    timeout: float = 900,
) -> Result:
    argv = [sys.executable, str(BUILD_PY), *args]
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    full_env = dict(os.environ)
    full_env.pop("CCACHE_DIR", None)
    if env:
        full_env.update(env)
    scratch = None
    if cwd is None:  # never the repo: its build dirs belong to the developer
        cwd = scratch = Path(tempfile.mkdtemp(prefix="ciharness-it-"))
        cwd.chmod(0o777)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
        )
    finally:
        if scratch is not None:  # nobody can read it after: gone, not left in /tmp by the thousand
            shutil.rmtree(scratch, ignore_errors=True)
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def container_names(client: docker.DockerClient, labels: list[str] | None = None) -> list[str]:
    """Names of containers (with all the labels given), from one listing: no per-container
    inspect that could race a container being removed meanwhile."""
    filters = {"label": labels} if labels else {}
    return [str(c["Names"][0]).lstrip("/") for c in client.api.containers(all=True, filters=filters)]


def leftovers(client: docker.DockerClient, *, beside_serial: bool = False) -> list[str]:
    """Containers build.py made on this host (they carry its owner labels) that outlived their
    owner, or whose owner is this test process or one of its children. Live runs of other
    processes (another test session, or another xdist worker: each is its own process tree), and
    the label-only containers some tests make by hand (and remove themselves), are not this
    test's leftovers. A container whose owner died counts whoever owned it: the tests that leave
    one on purpose for the watchdog (SIGKILL, orphans made by hand) are marked serial, so none is
    there while workers share the engine. beside_serial (a `lane` test, which runs beside the
    serial phase): only this process tree's, the serial tests' orphans being theirs."""
    me = psutil.Process()
    mine = {me.pid} | {p.pid for p in me.children(recursive=True)}
    host = socket.gethostname()
    left: list[str] = []
    for info in client.api.containers(all=True, filters={"label": [f"io.ciharness.owner-host={host}"]}):
        labels = info.get("Labels") or {}
        name = str(info["Names"][0]).lstrip("/")
        try:
            pid, start = int(labels["io.ciharness.owner-pid"]), float(labels["io.ciharness.owner-start"])
        except (KeyError, ValueError):
            left.append(name)
            continue
        if pid in mine or (not beside_serial and not owner_alive(pid, start)):
            left.append(name)
    return left


def tiny_platforms(tmp_path: Path, dockerfiles: dict[str, str]) -> Path:
    """A docker dir holding the given platforms, each a small Dockerfile."""
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir(parents=True, exist_ok=True)
    for name, text in dockerfiles.items():
        (docker_dir / f"Dockerfile.build.{name}").write_text(text, encoding="utf-8")
    return docker_dir


def elf_identity(path: Path) -> tuple[int, str, int]:
    """(ELF class bits, byte order, e_machine) of a binary, as the ELF specification numbers them."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    bits = {1: 32, 2: 64}[header[4]]
    order = {1: "little", 2: "big"}[header[5]]
    (machine,) = struct.unpack("<H" if order == "little" else ">H", header[18:20])
    return bits, order, machine


def summary_rows(stderr: str) -> dict[str, list[str]]:
    """The cells of the table that closes a run of several platforms, by platform (cells are
    apart by two spaces or more: platform, status, time, way, build, tests, ccache, remote)."""
    table = stderr[stderr.rindex("platform  ") :].splitlines()
    rows = [re.split(r"\s{2,}", line.strip()) for line in table[2:] if line.strip()]
    return {row[0]: row for row in rows if len(row) >= 6}


def snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under path with its size and mtime: to prove nothing was touched."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def drive_pty(
    argv: list[str],
    keystrokes: bytes,
    timeout: float = 60,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Run argv on a fresh pseudo-terminal, type keystrokes, return (status, everything shown)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=follower, stdout=follower, stderr=follower, close_fds=True, cwd=cwd, env=env
    )
    os.close(follower)
    shown = b""
    typed = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if not typed and re.search(rb"[#$] (\x1b\[[0-9;?]*[a-zA-Z])*$", shown):  # a shell prompt
            os.write(leader, keystrokes)
            typed = True
        if proc.poll() is not None and not ready:
            break
    os.close(leader)
    status = proc.wait(timeout=10)
    return status, shown.decode(errors="replace")


_registries: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_registry(
    tmp_path: Path, login: tuple[str, str] | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """A real registry (Debian's docker-registry) on a free loopback port, stopped at exit; with
    login, it asks for that user and password (htpasswd, bcrypt)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("NO docker-registry: scripts/provision.sh installs Debian's docker-registry")
    auth = ""
    if login is not None:
        (tmp_path / "htpasswd").write_text(f"{login[0]}:{bcrypt_hash(login[1])}\n")
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {tmp_path / 'htpasswd'}\n"
    for _ in range(3):  # another test (an xdist worker) may take the free port first: then again
        port = free_port()
        config = tmp_path / "registry.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {tmp_path / 'data'}\n  delete:\n    enabled: true\n"
            f"{auth}http:\n  addr: 127.0.0.1:{port}\n"
        )
        proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if answers(f"127.0.0.1:{port}", proc):
            _registries.append(proc)
            return f"127.0.0.1:{port}", proc
    pytest.fail("the registry did not start")


def answers(address: str, proc: subprocess.Popen[bytes]) -> bool:
    """Whether the registry proc started answers at address within 20 s (False: it was stopped)."""
    deadline = time.monotonic() + 20
    while proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1).close()
        except urllib.error.HTTPError:  # up, and asking for a login
            pass
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
            continue
        time.sleep(0.1)  # still running a moment later: its own, not another's on the same port
        if proc.poll() is None:
            return True
    proc.kill()
    proc.wait()
    return False


def stop_registries() -> None:
    """Every registry start_registry started in this process (conftest calls it at the end)."""
    while _registries:
        proc = _registries.pop()
        proc.kill()
        proc.wait()


def bcrypt_hash(password: str) -> str:
    """The bcrypt hash htpasswd files hold, from the system's crypt(3) (libxcrypt knows $2b$)."""
    script = "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))"
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, password], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def wait_for_dockerd(check: list[str], proc: subprocess.Popen[bytes], root: Path, what: str) -> None:
    """Until `check` (a docker CLI call against it) succeeds; fails the test after 60 s."""
    deadline = time.monotonic() + 60
    while subprocess.run(check, capture_output=True, check=False).returncode:
        if time.monotonic() > deadline or proc.poll() is not None:
            pytest.fail(f"{what} did not start: " + (root / "dockerd.log").read_text()[-2000:])
        time.sleep(0.5)


def stop_dockerd(proc: subprocess.Popen[bytes], bridge: str) -> None:
    """A test's own dockerd stopped, and the bridge made for it deleted."""
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    proc.kill()
    subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)


def ours(client: docker.DockerClient, **labels: str) -> list[str]:
    """Names of our containers (the run-id label) with these labels, e.g. owner_pid="123"."""
    filters = [LABEL] + [f"io.ciharness.{k.replace('_', '-')}={v}" for k, v in labels.items()]
    return container_names(client, filters)


def wait_until_none(client: docker.DockerClient, seconds: float, **labels: str) -> float:
    """Seconds until no container with labels exists; fails after `seconds`."""
    started = time.monotonic()
    while ours(client, **labels):
        if time.monotonic() - started > seconds:
            pytest.fail(f"containers still there after {seconds} s: {ours(client, **labels)}")
        time.sleep(0.05)
    return time.monotonic() - started


def start(tmp: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """build.py -p amd64 running `command` in the background (stderr piped, stdout dropped)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, str(BUILD_PY), "-p", "amd64", "--build-dir", str(tmp / "b"), "--", *command],
        cwd=tmp,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def non_root_user() -> pwd.struct_passwd:
    """TEST_USER, made (in the docker group) if missing; skips where this process is not root."""
    if os.geteuid() != 0:
        pytest.skip("NOT ROOT: cannot create the non-root test user; run the suite as root (CI does)")
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(TEST_USER)
    argv = ["useradd", "--create-home", "--groups", "docker", TEST_USER]
    made = subprocess.run(argv, capture_output=True, text=True, check=False)
    try:  # another xdist worker may have made it meanwhile: then useradd failed, and that is fine
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pytest.fail(f"cannot create the test user {TEST_USER}: {made.stderr}")


def as_user(user: pwd.struct_passwd, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """argv run as user (runuser), with that user's HOME and XDG_RUNTIME_DIR."""
    env = {"PATH": os.environ["PATH"], "HOME": user.pw_dir, "XDG_RUNTIME_DIR": f"/run/user/{user.pw_uid}"}
    wrapped = ["runuser", "-u", user.pw_name, "--", "env", *[f"{k}={v}" for k, v in env.items()], *argv]
    return subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
