"""A signal turned into an exception cannot be swallowed on its way up, and once one has come no
container is created (each case in a child process that really receives the signal)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    argv = [sys.executable, "-c", textwrap.dedent(code)]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=30, check=False)
    return proc.stdout + proc.stderr


def test_a_signal_while_logging_is_not_swallowed_by_logging() -> None:
    # logging's StreamHandler.emit catches Exception and prints "--- Logging error ---": a signal
    # landing while a slow stream (a loaded machine, a full pipe) is written must get through.
    shown = run("""
        import logging, os, signal, sys, threading, time
        from ci.running import signals

        class SlowStream:
            def write(self, text):
                time.sleep(0.5)
                sys.stderr.write(text)
            def flush(self):
                pass

        log = logging.getLogger("slow")
        log.addHandler(logging.StreamHandler(SlowStream()))
        log.propagate = False
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            with signals.signals_raise():
                log.warning("writing")
                print("went on")
        except signals.Interrupted as exc:
            print("interrupted by", exc.signum)
    """)
    assert "interrupted by 2" in shown and "went on" not in shown, shown


def test_no_container_is_created_after_a_signal_even_if_its_exception_was_lost() -> None:
    shown = run("""
        import os, signal
        from ci.running import signals

        with signals.signals_raise():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**7):
                    pass
            except BaseException:
                pass  # some code that swallows everything
            try:
                with signals.held():
                    print("created a container")
            except signals.Interrupted as exc:
                print("refused after", exc.signum)
    """)
    assert "refused after 15" in shown and "created a container" not in shown, shown
