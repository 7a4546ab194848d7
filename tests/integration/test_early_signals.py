"""Signals in the first moments of ./build.py (its sh prologue, Python starting, imports, the
engine reached): always 128+N or death by that signal, never a traceback."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ci.base import locks
from ci.planning import builddirs
from tests.integration.helpers import BUILD_PY

EARLY_TRIALS = int(os.environ.get("EARLY_TRIALS", "60"))

pytestmark = pytest.mark.serial  # signals timed to the first 0.3 s of a run


@pytest.mark.usefixtures("amd64_image")
def test_signals_in_the_first_moments_exit_quietly(tmp_path: Path) -> None:
    """Each run then waits for its build dir, which the test holds: it cannot have finished
    before its signal (a signal sent to a process that has just exited proves nothing)."""
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "4")))
    build_dir = tmp_path / "held"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if ".venv" not in p)
    argv = [str(BUILD_PY), "-p", "amd64", "--build-dir", str(build_dir), "--lock-timeout", "60", "--", "true"]
    with locks.locked(builddirs.lock_name(build_dir), "the test's build dir", 0):
        counted: dict[str, int] = {}
        while sum(counted.values()) < EARLY_TRIALS:
            sig = rng.choice([signal.SIGINT, signal.SIGINT, signal.SIGTERM])
            proc = subprocess.Popen(
                argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            time.sleep(rng.uniform(0.0, 0.3))
            assert proc.poll() is None, proc.communicate()[1].decode(errors="replace")
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=20)
            text = err.decode(errors="replace")
            assert proc.returncode in (128 + sig, -sig), (sig.name, proc.returncode, text)
            assert "Traceback" not in text and "Error" not in text, (sig.name, text)
            how = "exit" if proc.returncode > 0 else "death"
            counted[f"{sig.name} {how}"] = counted.get(f"{sig.name} {how}", 0) + 1
    # Most land after the early handler: the run itself said 128+N.
    assert counted.get("SIGINT exit", 0) > counted.get("SIGINT death", 0), counted
