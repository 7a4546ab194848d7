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

from ci.images import bootstrap
from ci.images.baseimage import BootstrapRecipe

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
