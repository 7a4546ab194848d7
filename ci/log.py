"""Logging setup: the only place that installs handlers. Library modules just log."""

from __future__ import annotations

import logging
import sys
import time

import colorlog
import psutil

# --debug stamps each line with the time since this process started (a start-up profile).
STARTED = psutil.Process().create_time()


class _SinceStart(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.since_start = f"{time.time() - STARTED:6.3f}s"
        return True


def setup(debug: bool = False) -> None:
    handler = colorlog.StreamHandler(sys.stderr)
    handler.setFormatter(
        colorlog.ColoredFormatter(
            "%(log_color)sbuild.py: %(since_start)s %(levelname)s:%(reset)s %(message)s"
            if debug
            else "%(log_color)sbuild.py:%(reset)s %(message)s",
            log_colors={"DEBUG": "cyan", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"},
            stream=sys.stderr,
        )
    )
    if debug:
        handler.addFilter(_SinceStart())
    root = logging.getLogger("ci")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    # The Docker SDK and urllib3 log request details (environment included) at DEBUG: keep them
    # quiet even under --debug so secrets never reach CI logs.
    for noisy in ("docker", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
