#!/usr/bin/env python3
"""Build and test the project in per-platform containers. See README.md and --help."""

import os
import signal
import sys


def _die_quietly(signum: int, _frame: object) -> None:
    # Until ci.harness installs its own handlers no container exists: just exit 128+N.
    os.write(2, f"build.py: interrupted by {signal.Signals(signum).name}\n".encode())
    os._exit(128 + signum)


for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _die_quietly)

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"

# Prefer the project's environment (made by ci/provision.sh) over whatever python3 is first.
if (VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
    python = str(VENV / "bin" / "python")
    os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606

REQUIRED = ("colorlog", "docker", "filelock", "psutil", "rich")
missing = [m for m in REQUIRED if importlib.util.find_spec(m) is None]
if missing:
    sys.stderr.write(f"build.py: missing Python dependencies ({', '.join(missing)}); run ci/provision.sh\n")
    sys.exit(2)

sys.path.insert(0, str(HERE))
from ci.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
