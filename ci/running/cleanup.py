"""Decide which containers are orphans, and remove them; start the watchdog that survives us.

Every container the harness creates carries labels naming its run, its owner process (pid and
start time) and the owner's host. A container is an orphan when its owner on this host is gone:
no process with that pid, or one with another start time (the pid was reused). Containers of
live runs, of other hosts, and containers that are not ours are never touched.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ci import REPO_ROOT
from ci.base import procs
from ci.planning.endpoints import Endpoint
from ci.planning.runspec import LABEL_PREFIX
from ci.settings.host import JENKINS_VARIABLES

log = logging.getLogger(__name__)

RUN_LABEL = LABEL_PREFIX + "run-id"
PID_LABEL = LABEL_PREFIX + "owner-pid"
START_LABEL = LABEL_PREFIX + "owner-start"
HOST_LABEL = LABEL_PREFIX + "owner-host"


def owner_alive(pid: int, start: float) -> bool:
    """Is the process that started a run still the same process?"""
    try:
        return abs(procs.start_time(pid) - start) < 0.05
    except (OSError, ValueError, IndexError):
        return False


def is_orphan(
    labels: Mapping[str, str], host: str, alive: Callable[[int, float], bool] = owner_alive
) -> bool:
    if RUN_LABEL not in labels or labels.get(HOST_LABEL) != host:
        return False  # not ours, or another machine's: its owner cannot be checked from here
    try:
        pid, start = int(labels[PID_LABEL]), float(labels[START_LABEL])
    except (KeyError, ValueError):
        return False
    return not alive(pid, start)


class ContainerStore(Protocol):
    """What cleanup needs from an engine (ci.engine.client.Engine provides it)."""

    def containers(self, label_filters: list[str]) -> list[dict[str, Any]]: ...

    def remove(self, container_id: str) -> None: ...


def reap_orphans(
    engine: ContainerStore, host: str, alive: Callable[[int, float], bool] = owner_alive
) -> list[str]:
    """Remove the containers of runs whose owner is gone; return their names."""
    removed: list[str] = []
    for info in engine.containers([RUN_LABEL]):
        labels = info.get("Labels") or {}
        if is_orphan(labels, host, alive):
            names = info.get("Names") or [str(info.get("Id", ""))[:12]]
            engine.remove(str(info["Id"]))
            removed.append(str(names[0]).lstrip("/"))
    return removed


def start_watchdog(
    run_id: str, env: Mapping[str, str], engine_urls: Sequence[str | Endpoint] | None = None
) -> int:
    """Start a process that removes this run's containers once we are gone, however we die.

    It reads a pipe whose only writer is this process: the kernel closes that end when we exit,
    even on SIGKILL, and the watchdog wakes at once. Returns the write end, which must stay open
    (and is never written) for as long as the run lives.
    """
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, False)
    clean_env = {k: v for k, v in env.items() if k not in JENKINS_VARIABLES}
    words = [u.to_arg() if isinstance(u, Endpoint) else u or "-" for u in engine_urls or [""]]
    subprocess.Popen(
        [sys.executable, "-m", "ci.running.watchdog", run_id, *words],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(REPO_ROOT),
        env=clean_env,
        start_new_session=True,  # a Ctrl-C on the terminal must not reach it
        close_fds=True,
    )
    os.close(read_end)
    return write_end
