"""Do: run one container to its end and remove it whatever happens; keep the register of live
containers that a signal or --fail-fast removes; hand the terminal to `docker run -it`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable

from ci.engine.client import Engine, Output, write_through
from ci.errors import ContainerError, RunTimeoutError
from ci.planning import runline, runspec
from ci.planning.createbody import container_config
from ci.running import signals

log = logging.getLogger(__name__)


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


Hook = Callable[[str], None]


def run_container(
    engine: Engine,
    spec: runspec.RunSpec,
    live: LiveContainers,
    *,
    output: Output = write_through,
    timeout: float | None = None,
    before_start: Hook | None = None,
    after_exit: Hook | None = None,
) -> int:
    """Run spec to completion; the container is removed whatever happens.

    With a timeout, the container is killed and removed when it runs longer, and RunTimeoutError
    is raised.
    """
    container_id = ""
    try:
        with signals.held():  # no signal may land between creating the container and registering it
            body = container_config(spec)
            container_id = engine.create(body, name=spec.name, platform=spec.docker_platform, tty=spec.tty)
            registered = live.add(container_id, engine)
        log.debug("%s: container %s created", spec.platform, container_id[:12])
        if not registered:
            raise Cancelled("stopped before its container started")
        if before_start is not None:
            before_start(container_id)
        status, expired = stream_until_done(engine, container_id, output, timeout)
        log.debug("%s: container exited with %d", spec.platform, status)
        if expired:
            raise RunTimeoutError(
                f"{spec.platform}: the run exceeded --timeout {timeout:g} s; "
                "its container was killed and removed"
            )
        if after_exit is not None:
            after_exit(container_id)
        return status
    finally:
        if container_id:
            engine.remove(container_id)
            live.discard(container_id)
            log.debug("%s: container removed", spec.platform)


def stream_until_done(
    engine: Engine, container_id: str, output: Output, timeout: float | None
) -> tuple[int, bool]:
    """Start the container and stream it to its end: (exit status, whether --timeout expired)."""
    expired = threading.Event()
    timer = None
    if timeout:

        def expire() -> None:
            expired.set()
            engine.remove(container_id)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
    try:
        return engine.start_and_stream(container_id, output), expired.is_set()
    except ContainerError:
        if not expired.is_set():
            raise
        return -1, True
    finally:
        if timer:
            timer.cancel()


def run_interactive(engine: Engine, spec: runspec.RunSpec) -> int:
    """Hand the terminal to `docker run -it`: the printed line is exactly what runs."""
    # Hidden values go to docker through its environment, never on its command line.
    argv = runline.docker_run_argv(spec, mask_secrets=True)
    secrets = {k: v for k, v in spec.env if runspec.hidden(k, v)}
    log.debug("exec: %s", " ".join(argv))
    # The terminal sends Ctrl-C to docker too; let it decide, and wait for it.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(argv, env={**os.environ, **secrets})
    finally:
        signal.signal(signal.SIGINT, previous)
        # If the terminal went away (SIGHUP) the CLI may die before its --rm does its work.
        engine.remove(spec.name)
