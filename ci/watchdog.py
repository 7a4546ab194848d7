"""The watchdog: `python -m ci.watchdog RUN_ID`, started by ci.cleanup.start_watchdog.

Blocks reading stdin (a pipe only the owner writes to) until the owner exits, then removes every
container labelled with RUN_ID. If the engine is briefly unreachable (restarting), it retries
for a minute before giving up.
"""

from __future__ import annotations

import os
import sys
import time

RUN_LABEL = "io.ciharness.run-id"  # ci.cleanup.RUN_LABEL; nothing heavy is imported while waiting

RETRY_SECONDS = 60.0


def main(argv: list[str]) -> int:
    run_id = argv[0]
    while os.read(0, 4096):
        pass  # nothing is ever written: EOF means the owner is gone
    # Imported only now: while the run works, the watchdog costs it no CPU.
    from ci.engine import Engine  # noqa: PLC0415
    from ci.errors import HarnessError  # noqa: PLC0415

    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            engine = Engine.connect(os.environ.get("DOCKER_HOST") or None, timeout=5)
            for info in engine.containers([f"{RUN_LABEL}={run_id}"]):
                engine.remove(str(info["Id"]))
            return 0
        except (HarnessError, OSError, Exception):  # keep trying until the deadline
            if time.monotonic() > deadline:
                return 1
            time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
