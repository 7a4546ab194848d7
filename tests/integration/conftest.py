"""Integration tier: every test here talks to the real Docker engine that scripts/provision.sh starts.
The shared fixtures live here; plain helpers in helpers.py."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from tests.integration import archshim
from tests.integration.helpers import (
    free_port,
    leftovers,
    non_root_user,
    run_build_py,
    start_registry,
    stop_dockerd,
    stop_registries,
    wait_for_dockerd,
)
from tests.rules import early_first_last_at_the_end


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except docker.errors.DockerException as exc:
        # Under CI this skip fails the run (tests/rules.py), as every skip but a missing GPU does.
        pytest.skip(f"NO DOCKER ENGINE: the integration tier cannot run ({exc}); run scripts/provision.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def amd64_image(docker_client: docker.DockerClient) -> str:
    """The amd64 build image, built once per session (bootstrapping debian:trixie if needed)."""
    result = run_build_py("-p", "amd64", "-b", timeout=1800)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def cleanup_images(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Image references the test adds to; removed after it, whatever happened."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(ref, force=True)


@pytest.fixture
def no_leftovers(docker_client: docker.DockerClient, request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test if any container of ours exists after it (see leftovers)."""
    yield
    left = leftovers(docker_client, beside_serial=request.node.get_closest_marker("lane") is not None)
    assert left == [], f"containers left behind: {left}"


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    build = tmp_path / "build"
    ccache = tmp_path / "ccache"
    return {"build": build, "ccache": ccache, "cwd": tmp_path}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is an engine test; those marked `early` run first, `last` after all others."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.engine)
    items[:] = early_first_last_at_the_end(items)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """TEST_TIMELINE=FILE: every test's start and end (epoch seconds, worker), one a line, to see
    where a run's time goes (e.g. TEST_TIMELINE=/tmp/t scripts/test.sh engine)."""
    _timeline("start", nodeid)


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _timeline("end", nodeid)


def _timeline(event: str, nodeid: str) -> None:
    path = os.environ.get("TEST_TIMELINE")
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{time.time():.1f} {worker} {event} {nodeid}\n")


@pytest.fixture(autouse=True, scope="session")
def _stop_registries() -> Iterator[None]:
    yield
    stop_registries()


@pytest.fixture(scope="session")
def cache_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A registry for tests that need one only as the way a build image reaches another engine:
    the run's (scripts/test.sh's CI_TEST_CACHE_REGISTRY: tests/integration/cache_registry.py),
    which holds the image after the first push, else one of this session's own. Tests about the
    registry itself (pushes, pulls, logins, one going down) start their own."""
    shared = os.environ.get("CI_TEST_CACHE_REGISTRY")
    if shared:
        return shared
    address, _ = start_registry(tmp_path_factory.mktemp("cache-registry"))
    return address


@pytest.fixture(scope="session")
def second_engine() -> Iterator[str]:
    """A second real dockerd on a loopback TCP port, with its own data root and its own bridge
    (named and numbered after this process, so concurrent test sessions do not collide). Its
    containers have no outside network: it gets images through a registry cache."""
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.skip("NO dockerd OR NOT ROOT: cannot start a second engine here")
    bridge, address = f"cih-br{os.getpid()}", f"10.213.{1 + os.getpid() % 250}.1/24"
    root = Path(tempfile.mkdtemp(prefix="d2-", dir="/tmp"))  # short: socket paths have a limit
    subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", address, "dev", bridge], check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    url = f"tcp://127.0.0.1:{free_port()}"
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "x"),
         "--pidfile", str(root / "pid"), "-H", url, "--iptables=false", "--ip-masq=false",
         "--bridge", bridge, "--storage-driver", "overlay2"],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        wait_for_dockerd(["docker", "-H", url, "version"], proc, root, "the second dockerd")
        yield url
    finally:
        stop_dockerd(proc, bridge)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def arm64_engine(docker_client: docker.DockerClient) -> Iterator[str]:
    """This machine's own dockerd as a remote arm64 engine (tests/integration/archshim.py): the
    tcp:// URL of a loopback front whose `docker info` says aarch64; what it builds and runs for
    arm64 runs under the host's qemu-user, where an arm64 node would run it natively."""
    with archshim.serving() as url:
        yield url


@pytest.fixture(scope="session")
def docker_user() -> pwd.struct_passwd:
    """A non-root user in the docker group, as a developer on a shared machine would be."""
    return non_root_user()


# Every podman test runs on one xdist worker: the root service build.py starts when none answers,
# and the test user's rootless service that some of them stop, are the machine's, not a test's.
PODMAN = pytest.mark.xdist_group("podman")


@pytest.fixture(scope="module", params=["docker", pytest.param("podman", marks=PODMAN)])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each engine kind in turn, with the amd64 and armv7 images on it (podman has its own store:
    its bases come from the cache)."""
    kind = str(request.param)
    if kind == "podman" and shutil.which("podman") is None:
        pytest.skip("NO PODMAN: scripts/provision.sh --podman installs it")
    built = run_build_py("--engine", kind, "-p", "amd64,armv7", "-b", timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    yield kind


@pytest.fixture(scope="module")
def rootless_user(engine: str, amd64_image: str) -> pwd.struct_passwd:
    """The non-root test user; for podman, with its runtime dir, no service left running, and the
    amd64 build image docker already has copied into its storage."""
    user = non_root_user()
    if engine == "podman":
        runtime = Path(f"/run/user/{user.pw_uid}")
        runtime.mkdir(parents=True, exist_ok=True)
        os.chown(runtime, user.pw_uid, user.pw_gid)
        runtime.chmod(0o700)
        # build.py starts the user's service when none answers: let it, not one left by another run
        subprocess.run(["pkill", "-u", user.pw_name, "-f", "podman system service"], check=False)
        seed_podman_storage(user, amd64_image, runtime)
    return user


def seed_podman_storage(user: pwd.struct_passwd, image: str, runtime: Path) -> None:
    """A copy of docker's image in the user's own podman storage (13 s), where building it again
    under rootless podman took 139 s of a 2-core machine's suite: these tests are about the
    service and the files, not the build (root podman's tests build theirs)."""
    as_user = [
        "runuser",
        "-u",
        user.pw_name,
        "--",
        "env",
        f"XDG_RUNTIME_DIR={runtime}",
        f"HOME={user.pw_dir}",
    ]
    if subprocess.run([*as_user, "podman", "image", "exists", image], cwd="/", check=False).returncode == 0:
        return
    saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    subprocess.run(
        [*as_user, "podman", "load", "-q"], cwd="/", stdin=saved.stdout, capture_output=True, check=True
    )
    assert saved.wait() == 0
