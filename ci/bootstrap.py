"""Do: make a Debian base image offline with debootstrap, for machines that cannot pull.

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

from ci.baseimage import BootstrapRecipe
from ci.engine import Engine, Output, write_through
from ci.errors import BaseImageUnavailableError
from ci.plan import LABEL_PREFIX

log = logging.getLogger(__name__)

ROOTFS_DOCKERFILE = """FROM scratch
ADD rootfs.tar /
CMD ["bash"]
"""


def bootstrap(recipe: BootstrapRecipe, engine: Engine, output: Output = write_through) -> None:
    what = f"{recipe.image} ({recipe.debian_arch}, Debian {recipe.suite})"
    if os.geteuid() != 0:
        raise BaseImageUnavailableError(
            f"base image {recipe.image} is missing, cannot be pulled, and bootstrapping it needs root",
            hint="run the same ./build.py command once as root (sudo), or load the image with docker load",
        )
    if shutil.which("debootstrap") is None:
        raise BaseImageUnavailableError(
            f"base image {recipe.image} is missing and debootstrap is not installed",
            hint="run ci/provision.sh, which installs it",
        )
    started = time.monotonic()
    log.info("bootstrapping %s with debootstrap from %s", what, recipe.mirror)
    workdir = Path(tempfile.mkdtemp(prefix="ciharness-rootfs-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    try:
        rootfs = workdir / "rootfs"
        cmd = [
            "debootstrap",
            "--variant=minbase",
            f"--arch={recipe.debian_arch}",
            recipe.suite,
            str(rootfs),
            recipe.mirror,
        ]
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            tail = result.stdout.decode(errors="replace").strip().splitlines()[-5:]
            output(("\n".join(tail) + "\n").encode(), True)
            raise BaseImageUnavailableError(
                f"debootstrap of {what} failed (exit {result.returncode})",
                hint=f"check that {recipe.mirror} is reachable, or set CI_DEBIAN_MIRROR",
            )
        # Keep the image small and reproducible in spirit: no package lists or caches.
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(workdir / "rootfs.tar"), "."],
            check=True,
        )
        shutil.rmtree(rootfs)
        (workdir / "Dockerfile").write_text(ROOTFS_DOCKERFILE, encoding="utf-8")
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
