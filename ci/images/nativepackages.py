"""Do: in an image whose RUN steps run under QEMU, make each step that only installs Debian
packages (ci.planning.packagesteps) here instead: the image up to that step exported, the packages
installed into it by this machine's own apt and dpkg (ci.images.chrootless), what changed added
back as one layer, then `dpkg --configure -a` (what could not be configured here) and `ldconfig`
in the image, under QEMU, with the target's own programs. The Dockerfile goes on from that image,
tagged by what made it (REPOSITORY:<hash>) so that other images and later runs find it.

arm64's build tools' layer (gcc, g++, cmake, ...): 151-161 s under QEMU, 110-118 s this way (the
install here some 20 s; most of the rest is ca-certificates' script finishing under QEMU). A
cross_toolchain.sh step's packages (an x86 cross toolchain in an arm64 image) are made here too,
with the target's Debian architecture added to the root first; its RUN then runs in the image
(it writes the toolchain's files), where its install finds them and skips apt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from ci.base import procs
from ci.base.locks import locked
from ci.engine.client import Engine, Output
from ci.images import chrootless
from ci.images.bootstrap import scratch_dir
from ci.planning import arches, packagesteps, runspec
from ci.planning.imagerequest import ImageRequest

log = logging.getLogger(__name__)

REPOSITORY = "ciharness/native-packages"
# Part of each layer's tag: a change to how layers are made here makes them anew. 3: the foreign
# architectures a layer adds are part of its tag (cross_toolchain.sh's layers).
LAYER_VERSION = "3"


def with_native_layers(
    engine: Engine,
    text: str,
    *,
    docker_platform: str,
    context: Path,
    request: ImageRequest,
    output: Output,
    build_before: Callable[[str], str],
    qemu_cpu: str | None,
) -> str:
    """text with its leading package steps made here (the Dockerfile from the last such image on),
    as far as this machine can; text itself where it cannot (not root, no apt). What is finished
    in the image runs under qemu_cpu, as the image's RUN steps do."""
    why = chrootless.capable()
    if why is not None:
        log.debug("package steps run under QEMU: %s", why)
        return text
    read = context_reader(context)
    row = arches.by_platform(docker_platform)
    debian = row.debian if row and row.debian != arches.NONE else None
    skip = 0  # the RUN steps kept after a layer made here: the next step is after them
    while (step := packagesteps.first_package_step(text, read, debian=debian, skip=skip)) is not None:
        base = build_before(step.before)  # its steps shared with other images, as any first steps
        if not base:  # an engine that did not say the image's id: the RUN makes the layer
            break
        image = native_layer(
            engine,
            step,
            base,
            docker_platform=docker_platform,
            request=request,
            output=output,
            qemu_cpu=qemu_cpu,
        )
        if image is None:
            break
        text = step.continued_from(image)
        skip = step.kept_runs
    return text


def context_reader(context: Path) -> packagesteps.ContextReader:
    def read(path: str) -> str | None:
        found = (context / path).resolve()
        if not found.is_relative_to(context.resolve()) or not found.is_file():
            return None
        return found.read_text(encoding="utf-8", errors="replace")

    return read


def native_layer(
    engine: Engine,
    step: packagesteps.PackageStep,
    base: str,
    *,
    docker_platform: str,
    request: ImageRequest,
    output: Output,
    qemu_cpu: str | None,
) -> str | None:
    """The tag of the image base (what `step.before` makes) plus step's packages make, made here
    where it is not there yet; None where this machine's apt could not install them (the RUN
    then does, under QEMU)."""
    added = [f"--add-architecture={arch}" for arch in step.architectures]
    key = "\n".join([LAYER_VERSION, docker_platform, base, *added, *step.packages])
    tag = f"{REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    if engine.image_exists(tag):
        return tag
    with locked("native-" + tag.rsplit(":", 1)[1], f"the package layer {tag}", request.lock_timeout):
        if engine.image_exists(tag):
            return tag
        try:
            make_layer(
                engine, base, tag, step, docker_platform=docker_platform, output=output, qemu_cpu=qemu_cpu
            )
        except chrootless.InstallFailed as exc:
            log.warning(
                "cannot install %s here (%s); the image's RUN installs them under QEMU",
                " ".join(step.packages),
                exc,
            )
            return None
    return tag


def make_layer(
    engine: Engine,
    base: str,
    tag: str,
    step: packagesteps.PackageStep,
    *,
    docker_platform: str,
    output: Output,
    qemu_cpu: str | None,
) -> None:
    """tag: base, plus step's packages installed here as one layer, finished in the image."""
    packages = step.packages
    row = arches.by_platform(docker_platform)
    native = row.debian if row else docker_platform.split("/")[1]
    workdir = scratch_dir()
    try:
        root = workdir / "root"
        root.mkdir()
        unpack(engine.export(base, platform=docker_platform, labels=owner_labels()), root)
        before = chrootless.snapshot(root)
        chrootless.add_architectures(root, native, step.architectures)
        added = f" (with the {', '.join(step.architectures)} architecture)" if step.architectures else ""
        log.info("installing %s for %s here, without emulation%s", " ".join(packages), docker_platform, added)
        said = chrootless.install(root, workdir, packages, native)
        output(said.encode(), True)
        changed, removed = chrootless.changes(before, chrootless.snapshot(root))
        build_dir = workdir / "context"
        build_dir.mkdir()
        chrootless.layer_tar(root, changed, build_dir / "layer.tar")
        dockerfile = packagesteps.layer_dockerfile(base, removed, chrootless.unconfigured(root), qemu_cpu)
        (build_dir / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        engine.build(
            context=build_dir,
            dockerfile="Dockerfile",
            tag=tag,
            platform=docker_platform,
            labels={},
            no_cache=False,
            output=output,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def unpack(stream: Iterator[bytes], root: Path) -> None:
    """An exported filesystem into root, owners and modes as they are."""
    tar = subprocess.Popen(
        ["tar", "--extract", "--numeric-owner", "--preserve-permissions", f"--directory={root}"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for chunk in stream:
            tar.stdin.write(chunk)  # type: ignore[union-attr]  # stdin=PIPE
    finally:
        _, errors = tar.communicate()
    if tar.returncode != 0:
        raise chrootless.InstallFailed(
            f"unpacking the image failed: {errors.decode(errors='replace').strip()}"
        )


def owner_labels() -> dict[str, str]:
    """This process as the owner of the export's container (ci.running.cleanup reaps it if we die)."""
    return runspec.owner_labels(socket.gethostname(), os.getpid(), procs.start_time(os.getpid()))
