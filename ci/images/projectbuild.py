"""Do: make a project's image exist on a platform's engine (ci.planning.projectimage decides it):
found, pulled from the registry cache, or built from its generated context on top of the
platform's image, under the same lock as any image build. A package that does not exist for the
platform's architecture and a failing pre-build command each become their own error."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ci.engine.client import Engine, Output
from ci.errors import ImageBuildError, PackageUnavailableError, PreBuildError
from ci.images import provide, retries
from ci.planning import runspec
from ci.planning.imagerequest import ImageRequest
from ci.planning.platforms import Platform
from ci.planning.projectimage import MISSING_MARK, NOT_SERVED_MARK, PRE_BUILD_MARK, ProjectImage

log = logging.getLogger(__name__)


def ensure_run_image(
    engine: Engine,
    platform: Platform,
    image: runspec.ImageRef,
    project_image: ProjectImage | None,
    *,
    context: Path,
    request: ImageRequest,
    host_platform: str,
    output: Output,
) -> None:
    """Make the image a run uses exist: the platform's (image), or the project's on top of it,
    the platform's looked for only when the project's must be built."""

    def platform_image() -> None:
        base = project_image.base if project_image else image
        provide.ensure_image(
            engine, platform, base, context, request, host_platform=host_platform, output=output
        )

    if project_image is None:
        platform_image()
    else:
        cpu = provide.steps_qemu_cpu(engine, platform, host_platform)
        ensure_project_image(
            engine,
            project_image,
            request,
            docker_platform=platform.docker_platform,
            output=output,
            base=platform_image,
            qemu_cpu=cpu,
        )


def ensure_project_image(
    engine: Engine,
    image: ProjectImage,
    request: ImageRequest,
    *,
    docker_platform: str,
    output: Output,
    base: Callable[[], None],
    qemu_cpu: str | None = None,
) -> None:
    """Make image.ref exist; base() makes the platform's image exist, called only when the
    project's image is to be built (not when it is found or pulled); its steps run under QEMU
    told qemu_cpu, where there is one (provide.steps_qemu_cpu)."""

    def build() -> None:
        base()
        retries.with_retries(
            lambda: build_project_image(engine, image, docker_platform, output, qemu_cpu),
            attempts=request.attempts,
            delay=request.retry_delay,
            what=f"building {image.ref}",
        )

    provide.ensure(
        engine,
        image.ref,
        request,
        lock_name=f"image-{image.platform}-{image.ref.tag}",
        docker_platform=docker_platform,
        what=image.platform,
        build=build,
    )


def build_project_image(
    engine: Engine, image: ProjectImage, docker_platform: str, output: Output, qemu_cpu: str | None = None
) -> None:
    log.info("building the project's image %s on %s", image.ref, image.base)
    started = time.monotonic()
    seen: list[bytes] = []

    def tee(chunk: bytes, is_stderr: bool) -> None:
        seen.append(chunk)
        output(chunk, is_stderr)

    with tempfile.TemporaryDirectory(prefix="ciharness-project-") as tmp:
        files = image.context_files()
        files["Dockerfile"] = provide.with_qemu_cpu(files["Dockerfile"].decode(), qemu_cpu).encode()
        for name, content in files.items():
            path = Path(tmp) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(0o755 if name.endswith(".sh") else 0o644)
        try:
            engine.build(
                context=Path(tmp),
                dockerfile="Dockerfile",
                tag=str(image.ref),
                platform=docker_platform,
                labels=image.labels(),
                no_cache=False,
                output=tee,
            )
        except ImageBuildError as exc:
            raise classified(b"".join(seen).decode(errors="replace"), image, exc) from exc
    log.info("built %s in %.1f s", image.ref, time.monotonic() - started)


def classified(text: str, image: ProjectImage, exc: ImageBuildError) -> ImageBuildError:
    """The build's failure as the project's error where project_image.sh said what it was."""
    missing = re.search(re.escape(MISSING_MARK) + r" (.*) \(for (\S+)\)", text)
    if missing:
        names, arch = missing[1], missing[2]
        return PackageUnavailableError(
            f"{image.platform}: no Debian package {names} for {arch} (packages of the project file)",
            hint="check the name at https://packages.debian.org (Debian trixie), or list build-machine "
            "tools under build-packages",
        )
    absent = re.search(re.escape(NOT_SERVED_MARK) + r" (.*) \(for (\S+)\)", text)
    if absent:
        return PackageUnavailableError(
            f"{image.platform}: the Debian archive lists {absent[1]} for {absent[2]} but serves no file "
            "for it (404 Not Found): the mirror is incomplete for that architecture",
            hint="use a mirror that carries the architecture, or leave the package out for this "
            "platform in a [platform.<name>] table",
        )
    failed = re.search(re.escape(PRE_BUILD_MARK) + r" (\d+) (\d+) (.*)", text)
    if failed:
        number, status, command = failed[1], failed[2], failed[3].strip()
        return PreBuildError(
            f"{image.platform}: pre-build command {number} ({command!r}) failed with status {status}",
            hint="its output is above (and in the build log); fix the command in the project file",
        )
    return exc
