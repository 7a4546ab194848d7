"""Command line: argv -> options -> a planned invocation -> its execution. The one place where
errors become exit codes."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping

from ci.engine import sshbridge
from ci.errors import (
    ExitCode,
    HarnessError,
)
from ci.output import log as ci_log
from ci.planning import invocation
from ci.running import execute, signals
from ci.settings.host import Host
from ci.settings.options import read_options

log = logging.getLogger(__name__)


def main(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    environ = os.environ if env is None else env
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    ci_log.setup(debug)
    log.debug("started; Python and the harness's modules loaded")
    try:
        opts = read_options(argv, environ)
        plan = invocation.plan_invocation(opts, environ, Host.current())
        return execute.execute(plan, environ)
    except HarnessError as exc:
        # One line: what is wrong, and how to fix it.
        log.error("%s", f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message)
        if debug:
            log.exception("traceback")
        return int(exc.code)
    except signals.Interrupted as exc:
        log.error("interrupted by %s; containers removed", signal.Signals(exc.signum).name)
        return 128 + exc.signum
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place an unexpected error becomes an exit code
        if debug:
            log.exception("internal error: %s: %s", type(exc).__name__, exc)
        else:
            log.error(
                "internal error: %s: %s (hint: run again with --debug for a traceback, and report it)",
                type(exc).__name__,
                exc,
            )
        return int(ExitCode.INTERNAL)
    finally:
        sshbridge.close_all()
