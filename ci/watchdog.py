"""The watchdog: `python -m ci.watchdog RUN_ID [ENGINE_URL...]`, started by
ci.cleanup.start_watchdog ('-' names the default engine).

Blocks reading stdin (a pipe only the owner writes to) until the owner exits, then removes every
container labelled with RUN_ID on every engine the run used. If an engine is briefly
unreachable (restarting), it retries for a minute before giving up on it.
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

    deadline = time.monotonic() + RETRY_SECONDS
    pending = [u for u in argv[1:] if u] or ["-"]
    while True:
        for url in list(pending):
            try:
                engine = Engine.connect(None if url == "-" else url, timeout=5)
                for info in engine.containers([f"{RUN_LABEL}={run_id}"]):
                    engine.remove(str(info["Id"]))
                pending.remove(url)
            except Exception:  # noqa: S112 (keep trying until the deadline)
                continue
        if not pending:
            return 0
        if time.monotonic() > deadline:
            return 1
        time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
