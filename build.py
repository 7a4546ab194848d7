#!/bin/sh
# Build and test the project in per-platform containers. See README.md and --help.
#
# A few lines of sh, then Python: sh runs them up to its exec, Python reads them as a string.
# They start .venv's interpreter directly (not the python3 first on PATH, which may be a slow
# pyenv shim, and with no re-exec), holding INT, TERM and HUP until Python's handlers are in.
""":"
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
[ ! -L "$0" ] || here=$(dirname "$(readlink -f "$0")")
py=$here/.venv/bin/python
[ -x "$py" ] || py=python3
exec env --block-signal=INT,TERM,HUP "$py" "$0" "$@"
"""

import _signal  # type: ignore[import-not-found]  # C only: no Python code runs before the hold

# Held, not lost: a signal that comes while Python starts waits until our handler is in. The
# mask and pending signals survive execve, handlers do not: the sh prologue has env(1) hold them
# before Python starts (`python3 build.py` holds them from here), and so does the execv below.
_HELD = {_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP}
_signal.pthread_sigmask(_signal.SIG_BLOCK, _HELD)

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402


def _die_quietly(signum: int, _frame: object) -> None:
    # Until ci.cli installs its own handlers no container exists: just exit 128+N.
    os.write(2, f"build.py: interrupted by {signal.Signals(signum).name}\n".encode())
    os._exit(128 + signum)


for _sig in _HELD:
    signal.signal(_sig, _die_quietly)

import contextlib  # noqa: E402
import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"

# `python3 build.py` (or a build.py reached through a symlink): use the project's environment
# (made by scripts/provision.sh) all the same.
if (VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != VENV.resolve():
    python = str(VENV / "bin" / "python")
    os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606

signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # one that came meanwhile is handled here

# No byte-code caches written into someone else's clone (root running build.py in a user's clone,
# where PYTHONDONTWRITEBYTECODE is unset, would leave root-owned __pycache__ dirs the user cannot
# delete): only the clone's owner writes them (scripts/provision.sh compiles them as the owner).
if os.geteuid() != HERE.stat().st_uid:
    sys.dont_write_bytecode = True

REQUIRED = ("colorlog", "docker", "rich")
missing = [m for m in REQUIRED if importlib.util.find_spec(m) is None]
if missing:
    sys.stderr.write(
        f"build.py: missing Python dependencies ({', '.join(missing)}); run scripts/provision.sh\n"
    )
    sys.exit(2)

sys.path.insert(0, str(HERE))
from ci.cli import main  # noqa: E402


def _checkpoint() -> None:
    """Entering a Python function is where CPython runs the handler of a signal already come."""


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # A signal that comes as the run ends still ends it 128+N, never a silent 0: hold them from
    # here, let the handler of one already delivered run (it exits), then take one still pending.
    signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    _checkpoint()
    late = sorted(signal.sigpending() & _HELD)
    if late:
        os.write(2, f"build.py: interrupted by {signal.Signals(late[0]).name}\n".encode())
        status = 128 + late[0]
    # Exit now, not after joining threads: a worker still waiting (for a lock, an image build, a
    # slow engine) must not keep an interrupted run alive. Its containers are registered and
    # removed already; one the engine finishes creating after we are gone, the watchdog removes.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()
    os._exit(status)
