"""One logging setup: harness lines of a platform's run also reach its log; under the board the
console keeps only warnings and errors of a platform, and everything that is no platform's."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import pytest

from ci.output import log as ci_log


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    ci_log.setup()
    yield logging.getLogger("ci.test")
    ci_log.setup()


def test_a_platforms_lines_go_to_its_log_and_only_in_its_thread(logger: logging.Logger) -> None:
    mine: list[str] = []

    def elsewhere() -> None:
        logger.info("from another platform's thread")

    with ci_log.to_platform_log(mine.append):
        logger.info("amd64: running %s", "true")
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    logger.info("after the run")
    assert mine == ["build.py: amd64: running true"]  # not the other thread's, not after


def test_under_the_board_a_platforms_info_lines_stay_off_the_console(logger: logging.Logger) -> None:
    screen = io.StringIO()
    kept: list[str] = []
    with ci_log.console_to(screen):
        with ci_log.to_platform_log(kept.append):
            logger.info("s390x: running build_generic")
            logger.warning("s390x: registry unreachable")
        logger.error("riscv64: cannot reach the engine")
    logger.info("not on the board's stream any more")
    shown = screen.getvalue()
    assert "running build_generic" not in shown
    assert "registry unreachable" in shown and "cannot reach the engine" in shown
    assert "any more" not in shown
    assert kept == ["build.py: s390x: running build_generic", "build.py: s390x: registry unreachable"]
