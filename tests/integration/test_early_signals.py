"""Signals in the first moments of ./build.py (Python starting, the re-exec into .venv, imports):
always 128+N or death by that signal, never a traceback."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.conftest import BUILD_PY

EARLY_TRIALS = int(os.environ.get("EARLY_TRIALS", "60"))


def test_signals_in_the_first_moments_exit_quietly(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "4")))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    # The system python3 first, so the run goes through the re-exec into .venv.
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if ".venv" not in p)
    counted: dict[str, int] = {}
    while sum(counted.values()) < EARLY_TRIALS:
        sig = rng.choice([signal.SIGINT, signal.SIGINT, signal.SIGTERM])
        proc = subprocess.Popen(
            [str(BUILD_PY), "-l"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is not None:  # listed before the signal: not a trial
            proc.communicate()
            continue
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
        text = err.decode(errors="replace")
        assert proc.returncode in (128 + sig, -sig), (sig.name, proc.returncode, text)
        assert "Traceback" not in text and "Error" not in text, (sig.name, text)
        how = "exit" if proc.returncode > 0 else "death"
        counted[f"{sig.name} {how}"] = counted.get(f"{sig.name} {how}", 0) + 1
    # Most land after the early handler: the run itself said 128+N.
    assert counted.get("SIGINT exit", 0) > counted.get("SIGINT death", 0), counted
