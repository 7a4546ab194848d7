"""Do: make a platform's image exist: find it, pull it from a registry cache, or build it (its
bases found, pulled or bootstrapped first), with retries on transient failures; prune old tags.

Decisions come from ci.planning.runspec and ci.images.baseimage; Docker calls go through ci.engine.client.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci.base.locks import locked
from ci.engine.client import Engine, Output, write_through
from ci.errors import BaseImageUnavailableError, ImageMissingError
from ci.images import bootstrap, hostqemu, nativepackages
from ci.images.baseimage import base_images, bootstrap_recipe, rewrite_from, same_architecture
from ci.images.retries import with_retries
from ci.planning import dockerfile, emulation, endpoints, runspec
from ci.planning.imagerequest import ImageRequest
from ci.planning.platforms import Platform

log = logging.getLogger(__name__)


def ensure_bases(
    engine: Engine, dockerfile_text: str, docker_platform: str, output: Output, request: ImageRequest
) -> None:
    """Every FROM image present: found, pulled, or bootstrapped with debootstrap."""
    for base in base_images(dockerfile_text, docker_platform):
        if engine.image_exists(base.name):
            continue
        log.info("base image %s is not here; trying to pull it", base.name)
        reason = engine.pull(base.name, base.docker_platform)
        if reason is None:
            continue
        recipe = bootstrap_recipe(base, request.debian_mirror)
        if recipe is None:
            raise BaseImageUnavailableError(
                f"base image {base.name} is not here, cannot be pulled ({reason}), and is not a "
                "Debian image that can be bootstrapped",
                hint="load it with `docker load`, or base the Dockerfile on debian:<suite>",
            )
        log.info("pull failed (%s); bootstrapping instead", reason)
        lock_name = "bootstrap-" + re.sub(r"[^A-Za-z0-9_.-]", "_", base.name)
        with locked(lock_name, f"bootstrap of {base.name}", request.lock_timeout):
            if not engine.image_exists(base.name):
                bootstrap.bootstrap(recipe, engine, output)


def fitted_from(engine: Engine, dockerfile_text: str, docker_platform: str, host_platform: str) -> str:
    """rewrite_from, where a plain Debian tag on this engine holds another architecture than the
    one wanted (an engine that is not of the machine it says, or a tag pulled for another
    platform) naming the per-architecture image instead of building on the wrong one."""
    rewritten = rewrite_from(dockerfile_text, docker_platform, host_platform)
    foreign = frozenset(
        base
        for base in base_images(rewritten, docker_platform)
        if (have := engine.image_platform(base.name)) and not same_architecture(have, base.docker_platform)
    )
    if not foreign:
        return rewritten
    log.info("%s: of another architecture on this engine", ", ".join(sorted(b.name for b in foreign)))
    return rewrite_from(dockerfile_text, docker_platform, host_platform, foreign)


def ensure_image(
    engine: Engine,
    platform: Platform,
    ref: runspec.ImageRef,
    context: Path,
    request: ImageRequest,
    *,
    host_platform: str,
    output: Output = write_through,
) -> None:
    """Make ref (the platform's content-hash tag, ci.planning.runspec.image_ref) exist; build only when it
    is not present."""

    def build() -> None:
        build_image(
            engine,
            platform,
            ref,
            context=context,
            request=request,
            host_platform=host_platform,
            output=output,
        )

    lock_name = f"image-{platform.name}-{ref.tag}"
    ensure(
        engine,
        ref,
        request,
        lock_name=lock_name,
        docker_platform=platform.docker_platform,
        what=platform.name,
        build=build,
    )


def ensure(
    engine: Engine,
    ref: runspec.ImageRef,
    request: ImageRequest,
    *,
    lock_name: str,
    docker_platform: str,
    what: str,
    build: Callable[[], None],
) -> None:
    """Make ref exist: found, else (under a lock that other runs wait on) pulled from the
    registry cache or built by build(); with push_cache what was built is pushed there. An
    unreachable registry is a warning, never a failure."""
    remote = f"{request.registry}/{ref}" if request.registry else None
    if request.run_only:
        if not engine.image_exists(str(ref)):
            raise ImageMissingError(
                f"image {ref} for {what} does not exist and --run-only forbids building it",
                hint=f"build it first: ./build.py -p {what} -b",
            )
        return
    if not request.no_cache and engine.image_exists(str(ref)):
        log.debug("image %s is current", ref)
        if remote and request.push_cache:
            push_to_cache(engine, ref, remote)
        return
    with locked(lock_name, f"the image build of {ref}", request.lock_timeout):
        if not request.no_cache and engine.image_exists(str(ref)):
            return  # another run built it while we waited
        if pulled_from_cache(engine, docker_platform, ref, remote, request):
            return
        build()
        if remote and request.push_cache:
            push_to_cache(engine, ref, remote)


def pulled_from_cache(
    engine: Engine, docker_platform: str, ref: runspec.ImageRef, remote: str | None, request: ImageRequest
) -> bool:
    if not remote or request.no_cache:
        return False
    reason = engine.pull(remote, docker_platform)
    if reason is not None:
        log.warning("registry cache: cannot pull %s (%s); building locally", remote, reason)
        return False
    engine.tag(remote, str(ref))
    log.info("pulled %s from the registry cache; no build needed", remote)
    return True


def build_image(
    engine: Engine,
    platform: Platform,
    ref: runspec.ImageRef,
    *,
    context: Path,
    request: ImageRequest,
    host_platform: str,
    output: Output,
) -> None:
    """Build ref: first, each under a lock other builds wait on, the steps it may share with
    other images (dockerfile.shared_layer_steps: one build makes them, the rest take them from
    the cache, in this run or another), then the whole Dockerfile."""
    text = platform.dockerfile.read_text(encoding="utf-8")
    fitted = fitted_from(engine, text, platform.docker_platform, host_platform)
    cpu = steps_qemu_cpu(engine, platform, host_platform)
    rewritten = with_qemu_cpu(fitted, cpu)
    ensure_bases(engine, rewritten, platform.docker_platform, output, request)
    log.info("building image %s from %s for %s", ref, platform.dockerfile.name, platform.docker_platform)
    started = time.monotonic()
    build = functools.partial(build_step, engine, platform, context=context, request=request, output=output)
    with tempfile.TemporaryDirectory(prefix="ciharness-dockerfile-") as tmp:
        shared = functools.partial(
            build_shared_step,
            build=build,
            platform=platform,
            ref=ref,
            tmp=Path(tmp),
            lock_timeout=request.lock_timeout,
        )
        local = endpoints.on_this_machine(engine.endpoint.url)
        native = request.native_packages and not request.no_cache
        if native and hostqemu.steps_emulated(platform, host_platform, local=local):
            rewritten = nativepackages.with_native_layers(
                engine,
                rewritten,
                docker_platform=platform.docker_platform,
                context=context,
                request=request,
                output=output,
                build_before=shared,
                qemu_cpu=cpu,
            )
        for step in [] if request.no_cache else dockerfile.shared_layer_steps(rewritten):
            shared(step)
        if rewritten == text:
            build(platform.dockerfile.resolve(), tag=ref)
        else:  # outside the context: the Docker SDK ships it alongside
            build(written(Path(tmp) / platform.dockerfile.name, rewritten), tag=ref)
    log.info("built %s in %.1f s", ref, time.monotonic() - started)


def build_shared_step(
    step: str,
    *,
    build: Callable[..., str],
    platform: Platform,
    ref: runspec.ImageRef,
    tmp: Path,
    lock_timeout: float,
) -> str:
    """Build a Dockerfile's first steps (untagged), under a lock other builds of the same steps
    for the platform's architecture wait on (they then take them from the cache); its image id."""
    key = "\n".join([platform.docker_platform, *dockerfile.logical_lines(step)])  # comments aside
    name = "layers-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    with locked(name, f"the first layers of {ref}, shared with other images", lock_timeout):
        return str(build(written(tmp / f"{name}.Dockerfile", step), tag=None))


def steps_qemu_cpu(engine: Engine, platform: Platform, host_platform: str) -> str | None:
    """The QEMU_CPU the RUN steps of an image of platform's (or of a project's on top of it) run
    under on engine (ci.planning.emulation.build_qemu_cpu: arm64's), or None."""
    local = endpoints.on_this_machine(engine.endpoint.url)
    return hostqemu.qemu_cpu_here(platform, host_platform, local=local, build=True)


def with_qemu_cpu(text: str, cpu: str | None) -> str:
    """text with QEMU_CPU as a build argument (no image keeps it), where there is one."""
    return dockerfile.with_build_arg(text, emulation.QEMU_CPU, cpu) if cpu else text


def written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def build_step(
    engine: Engine,
    platform: Platform,
    dockerfile: Path,
    *,
    tag: runspec.ImageRef | None,
    context: Path,
    request: ImageRequest,
    output: Output,
) -> str:
    """One engine build of dockerfile (tagged ref, or untagged: a shared step), with retries; the
    image's id."""

    def build() -> str:
        return engine.build(
            context=context,
            dockerfile=str(dockerfile),
            tag=str(tag) if tag else None,
            platform=platform.docker_platform,
            labels=runspec.image_labels(platform, tag) if tag else {},
            no_cache=request.no_cache,
            output=output,
        )

    what = f"building {tag or dockerfile.name}"
    return with_retries(build, attempts=request.attempts, delay=request.retry_delay, what=what)


def push_to_cache(engine: Engine, ref: runspec.ImageRef, remote: str) -> None:
    engine.tag(str(ref), remote)
    reason = engine.push(remote)
    if reason is None:
        log.info("pushed %s to the registry cache", remote)
    else:
        log.warning("registry cache: cannot push %s (%s); continuing", remote, reason)


def outdated_tags(images: list[dict[str, Any]], current: Callable[[str, str], str | None]) -> list[str]:
    """Tags of our images whose content hash is not the current one for their platform.

    current(platform, docker_platform) gives the current tag, or None when the platform is not
    defined here (then its images are kept: nothing here can judge them).
    """
    stale: list[str] = []
    for image in images:
        labels = image.get("Labels") or {}
        name = labels.get(runspec.LABEL_PREFIX + "platform")
        content = labels.get(runspec.LABEL_PREFIX + "content-hash")
        if not name or not content:
            continue  # not one of our build images (bootstrapped bases carry other labels)
        want = current(str(name), str(labels.get(runspec.LABEL_PREFIX + "docker-platform", "")))
        if want is None or want == content:
            continue
        tags = image.get("RepoTags") or []
        stale.extend(
            t
            for t in tags
            if str(t).startswith(runspec.IMAGE_REPOSITORY_PREFIX)
            or "/" + runspec.IMAGE_REPOSITORY_PREFIX in str(t)
        )
    return stale


def prune_images(engine: Engine, known: dict[str, Platform], context: Path) -> list[str]:
    """Remove the tags of our images that are no longer current; other tags keep their image."""

    def current(name: str, docker_platform: str) -> str | None:
        platform = known.get(name)
        if platform is None:
            return None
        if docker_platform and docker_platform != platform.docker_platform:
            platform = dataclasses.replace(platform, docker_platform=docker_platform)
        return runspec.image_ref(platform, context).tag

    stale = outdated_tags(engine.images([runspec.LABEL_PREFIX + "content-hash"]), current)
    for tag in stale:
        engine.remove_image(tag)
    return stale
