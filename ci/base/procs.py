"""Do: facts about processes and memory, read from /proc (what psutil reads, without its import
cost on every run's start).

A process's start time is starttime/CLK_TCK after boot, plus the boot time: the same value, to the
same tick, as psutil.Process(pid).create_time(), so containers labelled by either agree.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PROC = Path("/proc")


@functools.cache
def boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime line in /proc/stat")


def start_time(pid: int) -> float:
    """When pid started, in seconds since the epoch; ProcessLookupError when there is no pid."""
    return started_after_boot(pid) + boot_time()


def started_after_boot(pid: int) -> float:
    """When pid started, in seconds after boot (CLOCK_BOOTTIME's scale), to the clock tick: the
    boot time itself is whole seconds only."""
    try:
        stat = (PROC / str(pid) / "stat").read_bytes()
    except FileNotFoundError as exc:
        raise ProcessLookupError(pid) from exc
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the
    # last one. The fields after it start at field 3 (state); starttime is field 22.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[22 - 3]) / os.sysconf("SC_CLK_TCK")


def available_memory() -> int:
    """Bytes the kernel reckons can be allocated without swapping (MemAvailable)."""
    for line in (PROC / "meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise OSError("no MemAvailable line in /proc/meminfo")
