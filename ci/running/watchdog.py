"""The watchdog: `python -m ci.running.watchdog RUN_ID [ENGINE...]`, started by
ci.running.cleanup.start_watchdog
(each ENGINE an Endpoint as one JSON word, or a URL; '-' names the default engine).

Blocks reading stdin (a pipe only the owner writes to) until the owner exits, then removes every
container labelled with RUN_ID on every engine the run used, over TLS or SSH as the run did.
A container whose creation the engine was still finishing when the owner died appears late,
so it sweeps again after SWEEPS seconds. An engine briefly unreachable (restarting) is retried
for a minute before it gives up on it.
"""

from __future__ import annotations

import os
import sys
import time

RUN_LABEL = "io.ciharness.run-id"  # ci.running.cleanup.RUN_LABEL; nothing heavy is imported while waiting

RETRY_SECONDS = 60.0
SWEEPS = (0.0, 1.0, 3.0)  # seconds after the owner's death; a slow create lands within them


def main(argv: list[str]) -> int:
    run_id = argv[0]
    while os.read(0, 4096):
        pass  # nothing is ever written: EOF means the owner is gone
    died = time.monotonic()
    # Imported only now: while the run works, the watchdog costs it no CPU.
    from ci.engine.client import Engine  # noqa: PLC0415
    from ci.planning.endpoints import Endpoint  # noqa: PLC0415

    endpoints = [Endpoint.from_arg(a) for a in argv[1:] if a] or [Endpoint("")]
    connected: dict[int, Engine] = {}
    status = 0
    for sweep in SWEEPS:
        time.sleep(max(0.0, died + sweep - time.monotonic()))
        deadline = time.monotonic() + RETRY_SECONDS
        pending = list(range(len(endpoints)))
        while pending:
            for i in list(pending):
                try:
                    engine = connected.get(i) or Engine.connect(endpoints[i], timeout=5)
                    connected[i] = engine
                    for info in engine.containers([f"{RUN_LABEL}={run_id}"]):
                        engine.remove(str(info["Id"]))
                    pending.remove(i)
                except Exception:  # any failure: keep trying until the deadline
                    connected.pop(i, None)
            if pending and time.monotonic() > deadline:
                status = 1
                endpoints = [e for i, e in enumerate(endpoints) if i not in pending]
                connected = {}
                break
            if pending:
                time.sleep(1.0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
