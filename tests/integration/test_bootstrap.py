"""A foreign Debian base bootstraps with no QEMU: mmdebstrap --mode=chrootless, in a sandbox
where this machine's root filesystem is read-only."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from ci.engine.client import Engine
from ci.images import bootstrap
from ci.images.baseimage import BootstrapRecipe
from ci.planning import endpoints

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="NOT ROOT: bootstrapping a base needs root")


@pytest.fixture
def writable() -> Iterator[Path]:
    path = bootstrap.scratch_dir()  # on the root filesystem, as a bootstrap's scratch dir is
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_sandboxed_command_writes_its_own_dir_and_nothing_else(writable: Path) -> None:
    probe = Path("/etc") / f"ciharness-probe-{uuid.uuid4().hex}"
    script = f"touch {probe}; echo etc=$?; touch {writable}/made; echo own=$?"
    argv = bootstrap.sandboxed(["sh", "-c", script], writable)
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.stdout.split() == ["etc=1", "own=0"], result.stderr
    assert "Read-only file system" in result.stderr
    assert not probe.exists() and (writable / "made").is_file()


def test_a_foreign_trixie_is_bootstrapped_chrootless_and_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recipe = BootstrapRecipe(
        image="ciharness-test/debian:trixie", docker_platform="linux/arm/v7", suite="trixie",
        debian_arch="armhf", mirror=os.environ.get("CI_DEBIAN_MIRROR") or "http://deb.debian.org/debian",
    )  # fmt: skip
    tar = tmp_path / "rootfs.tar"
    with caplog.at_level(logging.INFO):
        bootstrap.make_rootfs(recipe, "armhf trixie", tar, lambda data, err: None)
    assert "without chroot or emulation" in caplog.text and "in a chroot" not in caplog.text
    with tarfile.open(tar) as rootfs:
        status, arch, passwd = (
            read(rootfs, name) for name in ("var/lib/dpkg/status", "var/lib/dpkg/arch", "etc/passwd")
        )
    assert arch.split() == ["armhf"] and passwd.startswith("root:x:0:0:")
    packages = [
        line.removeprefix("Package: ") for line in status.splitlines() if line.startswith("Package: ")
    ]
    assert len(packages) > 50 and status.count("Status: install ok installed") == len(packages)
    assert {"apt", "dpkg", "libc6", "base-files"} <= set(packages)


def read(rootfs: tarfile.TarFile, name: str) -> str:
    member = rootfs.extractfile(f"./{name}")
    assert member is not None, name
    return member.read().decode()


@pytest.mark.usefixtures("amd64_image")  # its base, bootstrapped by then: the rootfs is cached
def test_a_bootstrapped_base_is_configured_for_containers_as_debians_own_images_are(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """dpkg without an fsync per file and apt without translations, in files of the same names as
    the pulled debian:trixie's; apt and dpkg read them."""
    recipe = BootstrapRecipe(
        image=f"ciharness-test/debian:{uuid.uuid4().hex[:12]}", docker_platform="linux/amd64", suite="trixie",
        debian_arch="amd64", mirror=os.environ.get("CI_DEBIAN_MIRROR") or "http://deb.debian.org/debian",
    )  # fmt: skip
    engine = Engine.connect(endpoints.default_endpoint(dict(os.environ), tmp_path))
    bootstrap.bootstrap(recipe, engine, lambda data, err: None)
    try:
        script = (
            "apt-config dump Acquire::Languages; cat /etc/dpkg/dpkg.cfg.d/docker-apt-speedup;"
            " stat -c '%a %U' /etc/apt /etc/apt/apt.conf.d /etc/dpkg/dpkg.cfg.d"
        )
        shown = docker_client.containers.run(recipe.image, ["sh", "-c", script], remove=True).decode()
    finally:
        docker_client.images.remove(recipe.image)
    assert shown.splitlines() == [
        'Acquire::Languages "";', 'Acquire::Languages:: "none";',  # a list of one: none
        "force-unsafe-io", "755 root", "755 root", "755 root",
    ], shown  # fmt: skip
