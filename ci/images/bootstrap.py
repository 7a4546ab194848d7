"""Do: make a Debian base image offline with mmdebstrap or debootstrap, for machines that cannot pull.

The rootfs is packed into a `FROM scratch` + `ADD rootfs.tar /` build with the target platform
set, because `docker import --platform` records the wrong architecture on this engine.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ci.engine.client import Engine, Output, write_through
from ci.errors import BaseImageUnavailableError
from ci.images.baseimage import BootstrapRecipe
from ci.planning.runspec import LABEL_PREFIX

log = logging.getLogger(__name__)

ROOTFS_DOCKERFILE = """FROM scratch
ADD rootfs.tar /
COPY etc/ /etc/
CMD ["bash"]
"""

# What Debian's own images on Docker Hub configure for life in a container, under the same names
# (so a Dockerfile that removes or edits one behaves as it would on the pulled image): dpkg writes
# without an fsync per file, and apt fetches no translated descriptions (Translation-en is 35 MB
# uncompressed, parsed on every `apt-get update`: a tenth of one under QEMU). Their other files
# (docker-clean: no cached package lists) would have apt parse the lists twice in every install.
IMAGE_CONFIG = {
    "dpkg/dpkg.cfg.d/docker-apt-speedup": "force-unsafe-io\n",
    "apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
}


def scratch_dir() -> Path:
    """Room for a root filesystem: /var/tmp (disk), not a tmpfs /tmp, unless TMPDIR says so."""
    return Path(tempfile.mkdtemp(prefix="ciharness-rootfs-", dir=os.environ.get("TMPDIR", "/var/tmp")))


def rootfs_cache(recipe: BootstrapRecipe) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ciharness" / "rootfs" / f"debian-{recipe.suite}-{recipe.debian_arch}.tar"


def bootstrap(recipe: BootstrapRecipe, engine: Engine, output: Output = write_through) -> None:
    """Make recipe.image on engine: from the cached rootfs tar, else by debootstrap (cached after)."""
    what = f"{recipe.image} ({recipe.debian_arch}, Debian {recipe.suite})"
    cached = rootfs_cache(recipe)
    started = time.monotonic()
    if not cached.is_file():
        make_rootfs(recipe, what, cached, output)
    else:
        log.info("making %s from the cached rootfs %s", what, cached)
    workdir = image_context(cached)
    try:
        engine.build(
            context=workdir,
            dockerfile="Dockerfile",
            tag=recipe.image,
            platform=recipe.docker_platform,
            labels={LABEL_PREFIX + "bootstrapped": f"debootstrap {recipe.suite} {recipe.debian_arch}"},
            no_cache=False,
            output=output,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log.info("bootstrapped %s in %.0f s", recipe.image, time.monotonic() - started)


def image_context(rootfs_tar: Path) -> Path:
    """A scratch dir to build the base image from: the rootfs tar (a link to it where it can be),
    ROOTFS_DOCKERFILE and IMAGE_CONFIG's files."""
    workdir = scratch_dir()
    try:
        os.link(rootfs_tar, workdir / "rootfs.tar")
    except OSError:
        shutil.copy2(rootfs_tar, workdir / "rootfs.tar")
    (workdir / "Dockerfile").write_text(ROOTFS_DOCKERFILE, encoding="utf-8")
    for name, text in IMAGE_CONFIG.items():
        path = workdir / "etc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        for folder in path.relative_to(workdir).parents[:-1]:  # COPY gives /etc's dirs these modes
            (workdir / folder).chmod(0o755)
    return workdir


def make_rootfs(recipe: BootstrapRecipe, what: str, destination: Path, output: Output) -> None:
    """Bootstrap the rootfs as a tar at destination (written atomically): with mmdebstrap where
    it is installed (one apt-driven pass: a foreign arm64 trixie took 166 s here, debootstrap's
    two stages 270 s, most of both under QEMU; 18 s chrootless, where the suite allows), else
    with debootstrap."""
    if os.geteuid() != 0:
        raise BaseImageUnavailableError(
            f"base image {recipe.image} is missing, cannot be pulled, and bootstrapping it needs root",
            hint="run the same ./build.py command once as root (sudo), or load the image with docker load",
        )
    tool = next((name for name in ("mmdebstrap", "debootstrap") if shutil.which(name)), None)
    if tool is None:
        raise BaseImageUnavailableError(
            f"base image {recipe.image} is missing and neither mmdebstrap nor debootstrap is installed",
            hint="run scripts/provision.sh, which installs them",
        )
    log.info("bootstrapping %s with %s from %s", what, tool, recipe.mirror)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(f".{os.getpid()}.partial")
    workdir = scratch_dir()
    try:
        if tool == "mmdebstrap":  # writes the tar itself, package lists and .debs cleaned up
            if chrootless(recipe, workdir, what):
                shutil.move(workdir / "rootfs.tar", partial)
            else:
                run_bootstrap(mmdebstrap_argv(recipe, partial), what, recipe, output)
        else:
            rootfs = workdir / "rootfs"
            run_bootstrap(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--arch={recipe.debian_arch}",
                    recipe.suite,
                    str(rootfs),
                    recipe.mirror,
                ],
                what,
                recipe,
                output,
            )
            pack(rootfs, partial)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


# Suites whose essential packages and apt support DPKG_ROOT (Debian's InstallBootstrap work):
# mmdebstrap --mode=chrootless installs them with this machine's dpkg and runs their maintainer
# scripts here, natively, with no QEMU for a foreign architecture (arm64: 18 s, where the
# emulated second stage took 166 s).
CHROOTLESS_SUITES = frozenset({"trixie", "forky", "testing", "sid", "unstable"})

# The machine's root filesystem read-only in a mount namespace of the command's own, but for one
# dir: a maintainer script that ignored DPKG_ROOT would fail there, never change this machine.
READ_ONLY_ROOT = (
    'mount --make-rprivate / && mount --bind "$1" "$1" && mount -o remount,bind,ro / && shift && exec "$@"'
)


def sandboxed(argv: list[str], writable: Path) -> list[str]:
    return ["unshare", "--mount", "--", "sh", "-c", READ_ONLY_ROOT, "sh", str(writable), *argv]


def mmdebstrap_argv(recipe: BootstrapRecipe, tar: Path, *mode: str) -> list[str]:
    variant = ["--variant=minbase", "--format=tar", f"--architectures={recipe.debian_arch}"]
    return ["mmdebstrap", *mode, *variant, recipe.suite, str(tar), recipe.mirror]


def chrootless_argv(recipe: BootstrapRecipe, workdir: Path) -> list[str]:
    """mmdebstrap --mode=chrootless writing workdir/rootfs.tar, its temp dir there too, sandboxed."""
    argv = mmdebstrap_argv(recipe, workdir / "rootfs.tar", "--mode=chrootless")
    return sandboxed(["env", f"TMPDIR={workdir}", *argv], workdir)


def chrootless(recipe: BootstrapRecipe, workdir: Path, what: str) -> bool:
    """workdir/rootfs.tar made by chrootless_argv; False where the suite is not one for it or it
    failed (then the caller bootstraps the usual way)."""
    if recipe.suite not in CHROOTLESS_SUITES or shutil.which("unshare") is None:
        return False
    argv = chrootless_argv(recipe, workdir)
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if result.returncode == 0:
        log.info("bootstrapped %s without chroot or emulation (mmdebstrap --mode=chrootless)", what)
        return True
    tail = " / ".join(result.stdout.decode(errors="replace").strip().splitlines()[-3:])
    log.warning("mmdebstrap --mode=chrootless failed for %s (%s); bootstrapping in a chroot", what, tail)
    (workdir / "rootfs.tar").unlink(missing_ok=True)
    return False


def run_bootstrap(cmd: list[str], what: str, recipe: BootstrapRecipe, output: Output) -> None:
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = result.stdout.decode(errors="replace").strip().splitlines()[-5:]
        output(("\n".join(tail) + "\n").encode(), True)
        raise BaseImageUnavailableError(
            f"{cmd[0]} of {what} failed (exit {result.returncode})",
            hint=f"check that {recipe.mirror} is reachable, or set CI_DEBIAN_MIRROR",
        )


def pack(rootfs: Path, tar: Path) -> None:
    """debootstrap's rootfs as a tar, without package lists or downloaded .debs."""
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (rootfs / leftover).glob("*"):
            if item.is_file():
                item.unlink()
    subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tar), "."], check=True)
