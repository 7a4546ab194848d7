"""Do: resolve images (find, pull bases, bootstrap, build with retries) and run containers.

Decisions come from ci.plan and ci.baseimage; Docker calls go through ci.engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import filelock

from ci import bootstrap, cleanup, plan
from ci import engines as engines_module
from ci.baseimage import DEFAULT_MIRROR, base_images, bootstrap_recipe, rewrite_from
from ci.engine import Engine, Output, write_through
from ci.errors import (
    BaseImageUnavailableError,
    ContainerError,
    ImageBuildError,
    ImageMissingError,
    LockTimeoutError,
    RunTimeoutError,
)
from ci.platforms import Platform

log = logging.getLogger(__name__)

TRANSIENT_MARKERS = (
    "Temporary failure resolving",
    "Could not connect to",
    "Connection timed out",
    "Connection reset by peer",
    "Hash Sum mismatch",
    "503  Service Unavailable",
    "502  Bad Gateway",
    "Failed to fetch",
    "TLS handshake timeout",
    "i/o timeout",
    "lost the engine",
)


def is_transient(message: str) -> bool:
    return any(marker in message for marker in TRANSIENT_MARKERS)


def with_retries(
    action: Callable[[], None],
    *,
    attempts: int,
    delay: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run action; retry transient ImageBuildErrors with doubling delays, then report clearly."""
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except ImageBuildError as exc:
            if not is_transient(exc.message):
                raise
            if attempt == attempts:
                raise ImageBuildError(
                    f"{exc.message} (transient failure, gave up after {attempts} attempts)",
                    hint="the network or a mirror is failing; run again later",
                ) from exc
            log.warning(
                "%s failed with a transient error, retrying in %.0f s (%d/%d)", what, delay, attempt, attempts
            )
            sleep(delay)
            delay *= 2


def lock_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "ciharness" / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(name: str, what: str, timeout: float) -> Iterator[None]:
    lock = filelock.FileLock(str(lock_dir() / f"{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.info("waiting up to %.0f s for %s (held by another build.py run)", timeout, what)
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout as exc:
            raise LockTimeoutError(
                f"gave up waiting for {what} after {timeout:.0f} s",
                hint="another build.py run holds it; wait for it or raise --lock-timeout",
            ) from exc
    try:
        yield
    finally:
        lock.release()


def ensure_bases(engine: Engine, dockerfile_text: str, docker_platform: str, output: Output) -> None:
    """Every FROM image present: found, pulled, or bootstrapped with debootstrap."""
    mirror = os.environ.get("CI_DEBIAN_MIRROR") or DEFAULT_MIRROR
    for base in base_images(dockerfile_text, docker_platform):
        if engine.image_exists(base.name):
            continue
        log.info("base image %s is not here; trying to pull it", base.name)
        reason = engine.pull(base.name, base.docker_platform)
        if reason is None:
            continue
        recipe = bootstrap_recipe(base, mirror)
        if recipe is None:
            raise BaseImageUnavailableError(
                f"base image {base.name} is not here, cannot be pulled ({reason}), and is not a "
                "Debian image that can be bootstrapped",
                hint="load it with `docker load`, or base the Dockerfile on debian:<suite>",
            )
        log.info("pull failed (%s); bootstrapping instead", reason)
        lock_name = "bootstrap-" + re.sub(r"[^A-Za-z0-9_.-]", "_", base.name)
        with locked(lock_name, f"bootstrap of {base.name}", 3600):
            if not engine.image_exists(base.name):
                bootstrap.bootstrap(recipe, engine, output)


def ensure_image(
    engine: Engine,
    platform: Platform,
    context: Path,
    *,
    no_cache: bool,
    run_only: bool,
    lock_timeout: float,
    host_platform: str,
    output: Output = write_through,
    registry: str | None = None,
    push_cache: bool = False,
    attempts: int = 3,
    retry_delay: float = 2.0,
) -> plan.ImageRef:
    """The platform's image, built only when its content-hash tag is not present.

    With a registry cache, the same content-hash tag is pulled from it before building, and
    with push_cache what was built is pushed there; an unreachable registry is a warning, never
    a failure.
    """
    ref = plan.image_ref(platform, context)
    remote = f"{registry}/{ref}" if registry else None
    if run_only:
        if not engine.image_exists(str(ref)):
            raise ImageMissingError(
                f"image {ref} for {platform.name} does not exist and --run-only forbids building it",
                hint=f"build it first: ./build.py -p {platform.name} -b",
            )
        return ref
    if not no_cache and engine.image_exists(str(ref)):
        log.debug("image %s is current", ref)
        if remote and push_cache:
            push_to_cache(engine, ref, remote)
        return ref
    with locked(f"image-{platform.name}-{ref.tag}", f"the image build of {ref}", lock_timeout):
        if not no_cache and engine.image_exists(str(ref)):
            return ref  # another run built it while we waited
        if remote and not no_cache:
            reason = engine.pull(remote, platform.docker_platform)
            if reason is None:
                engine.tag(remote, str(ref))
                log.info("pulled %s from the registry cache; no build needed", remote)
                return ref
            log.warning("registry cache: cannot pull %s (%s); building locally", remote, reason)
        text = platform.dockerfile.read_text(encoding="utf-8")
        rewritten = rewrite_from(text, platform.docker_platform, host_platform)
        ensure_bases(engine, rewritten, platform.docker_platform, output)
        log.info("building image %s from %s for %s", ref, platform.dockerfile.name, platform.docker_platform)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ciharness-dockerfile-") as tmp:
            dockerfile = platform.dockerfile.resolve()
            if rewritten != text:  # outside the context: the Docker SDK ships it alongside
                dockerfile = Path(tmp) / platform.dockerfile.name
                dockerfile.write_text(rewritten, encoding="utf-8")

            def build() -> None:
                engine.build(
                    context=context,
                    dockerfile=str(dockerfile),
                    tag=str(ref),
                    platform=platform.docker_platform,
                    labels=plan.image_labels(platform, ref),
                    no_cache=no_cache,
                    output=output,
                )

            with_retries(build, attempts=attempts, delay=retry_delay, what=f"building {ref}")
        log.info("built %s in %.1f s", ref, time.monotonic() - started)
        if remote and push_cache:
            push_to_cache(engine, ref, remote)
    return ref


def outdated_tags(images: list[dict[str, Any]], current: Callable[[str, str], str | None]) -> list[str]:
    """Tags of our images whose content hash is not the current one for their platform.

    current(platform, docker_platform) gives the current tag, or None when the platform is not
    defined here (then its images are kept: nothing here can judge them).
    """
    stale: list[str] = []
    for image in images:
        labels = image.get("Labels") or {}
        name = labels.get(plan.LABEL_PREFIX + "platform")
        content = labels.get(plan.LABEL_PREFIX + "content-hash")
        if not name or not content:
            continue  # not one of our build images (bootstrapped bases carry other labels)
        want = current(str(name), str(labels.get(plan.LABEL_PREFIX + "docker-platform", "")))
        if want is None or want == content:
            continue
        tags = image.get("RepoTags") or []
        stale.extend(
            t
            for t in tags
            if str(t).startswith(plan.IMAGE_REPOSITORY_PREFIX) or "/" + plan.IMAGE_REPOSITORY_PREFIX in str(t)
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
        return plan.image_ref(platform, context).tag

    stale = outdated_tags(engine.images([plan.LABEL_PREFIX + "content-hash"]), current)
    for tag in stale:
        engine.remove_image(tag)
    return stale


def push_to_cache(engine: Engine, ref: plan.ImageRef, remote: str) -> None:
    engine.tag(str(ref), remote)
    reason = engine.push(remote)
    if reason is None:
        log.info("pushed %s to the registry cache", remote)
    else:
        log.warning("registry cache: cannot push %s (%s); continuing", remote, reason)


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into Interrupted so `finally` blocks remove containers."""
    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _raise_interrupted) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class EnginePool:
    """One connection per engine URL, made when a platform first needs it (so an unreachable
    engine fails only the platforms mapped to it); orphans are reaped on each at first use."""

    def __init__(self, *, reap: bool, host_name: str) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}
        self._platforms: dict[str, str] = {}
        self._volumes: set[str] = set()
        self.reap = reap
        self.host_name = host_name

    def get(self, url: str) -> Engine:
        with self._lock:
            if url not in self._engines:
                engine = Engine.connect(url or None)
                if self.reap:
                    reaped = cleanup.reap_orphans(engine, self.host_name)
                    if reaped:
                        log.warning(
                            "removed %d container(s) left by dead runs: %s", len(reaped), ", ".join(reaped)
                        )
                self._engines[url] = engine
            return self._engines[url]

    def docker_platform(self, url: str, local_platform: str) -> str:
        """The platform of the machine an engine runs on (asked once per remote engine)."""
        if not engines_module.is_remote(url):
            return local_platform
        engine = self.get(url)
        with self._lock:
            if url not in self._platforms:
                self._platforms[url] = engine.docker_platform()
            return self._platforms[url]

    def ccache_volume(self, url: str, uid: int, gid: int, image: str) -> None:
        engine = self.get(url)
        with self._lock:
            if url not in self._volumes:
                engine.owned_volume(plan.CCACHE_VOLUME, uid, gid, image)
                self._volumes.add(url)


class Cancelled(Exception):
    """The run was stopped (a signal, or --fail-fast) before its container started."""


class LiveContainers:
    """Every container this process has created and not yet removed, across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, Engine] = {}
        self.closed = False

    def add(self, container_id: str, engine: Engine) -> bool:
        """Register a new container; False once remove_all has run (the caller must not start it)."""
        with self._lock:
            if self.closed:
                return False
            self._live[container_id] = engine
            return True

    def discard(self, container_id: str) -> None:
        with self._lock:
            self._live.pop(container_id, None)

    def remove_all(self) -> None:
        with self._lock:
            self.closed = True
            live = list(self._live.items())
        for container_id, engine in live:
            engine.remove(container_id)
            self.discard(container_id)


def run_container(
    engine: Engine,
    spec: plan.RunSpec,
    live: LiveContainers,
    *,
    output: Output = write_through,
    timeout: float | None = None,
    before_start: Callable[[str], None] | None = None,
    after_exit: Callable[[str], None] | None = None,
) -> int:
    """Run spec to completion; the container is removed whatever happens.

    With a timeout, the container is killed and removed when it runs longer, and RunTimeoutError
    is raised.
    """
    wanted = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    # No signal may land between creating the container and registering it.
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    container_id = ""
    try:
        try:
            container_id = engine.create(spec)
            registered = live.add(container_id, engine)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, wanted)
        if not registered:
            raise Cancelled("stopped before its container started")
        if before_start is not None:
            before_start(container_id)
        expired = threading.Event()
        timer = None
        if timeout:
            cid = container_id

            def expire() -> None:
                expired.set()
                engine.remove(cid)

            timer = threading.Timer(timeout, expire)
            timer.daemon = True
            timer.start()
        try:
            status = engine.start_and_stream(container_id, output)
        except ContainerError:
            if not expired.is_set():
                raise
        finally:
            if timer:
                timer.cancel()
        if after_exit is not None and not expired.is_set():
            after_exit(container_id)
        if expired.is_set():
            raise RunTimeoutError(
                f"{spec.platform}: the run exceeded --timeout {timeout:g} s; "
                "its container was killed and removed"
            )
        return status
    finally:
        if container_id:
            engine.remove(container_id)
            live.discard(container_id)


def run_interactive(engine: Engine, spec: plan.RunSpec) -> int:
    """Hand the terminal to `docker run -it`: the printed line is exactly what runs."""
    argv = plan.docker_run_argv(spec)
    log.debug("exec: %s", " ".join(argv))
    # The terminal sends Ctrl-C to docker too; let it decide, and wait for it.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(argv)
    finally:
        signal.signal(signal.SIGINT, previous)
        # If the terminal went away (SIGHUP) the CLI may die before its --rm does its work.
        engine.remove(spec.name)
