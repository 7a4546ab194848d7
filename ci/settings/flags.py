"""Decide the command line's flags: the argparse parser, built from the settings table (ci/settings/
settings.toml), its groups, and its help text with the exit codes of ci.errors (pure)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ci.errors import ExitCode, UsageError
from ci.settings import table

EXAMPLES = """\
examples:
  ./build.py -l                                   list the platforms
  ./build.py -a -j 3                              every platform, 3 at a time, then a summary
  ./build.py -p armv7,arm64,s390x                 cross-compile, test under qemu-user
  ./build.py -p amd64                             build the image if needed, then build + test
  ./build.py -p amd64 -- bash -c 'exit 7'         any command (build.py exits 7)
  ./build.py -p amd64 unittest_xsum               a function of runtime_functions.sh
  ./build.py -p amd64 -i                          a shell with the same mounts, env and user
  ./build.py -p amd64 --print-docker-run -- make  print the equivalent `docker run` line
  ./build.py -p amd64 --source ~/src/zlib         any C/C++ project as it is, whatever it builds with
  ./build.py -p amd64 -e CMAKE_ARGS=-DFOO=ON      pass environment (values may contain '=')
  ./build.py --release 1.2 --push R/xsum -p arm64 --no-manifest   push 1.2-arm64 from this machine
  ./build.py --manifest 1.2 --push R/xsum -p amd64,arm64          then join them into the list 1.2

"""


def exit_codes_text() -> str:
    """The --help epilog's exit codes, one a line, from ci.errors.ExitCode and its meanings."""
    rows = [(str(int(code)), code.meaning) for code in ExitCode]
    rows.insert(1, ("1-255", "the run's own exit status, passed through unchanged"))
    rows.append(("128+N", "killed by signal N"))
    return "exit codes:\n" + "\n".join(f"  {code:<6} {meaning}" for code, meaning in rows)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint="see ./build.py --help")


TYPES: dict[str, Callable[[str], object]] = {"int": int, "float": float, "path": Path}


def build_parser() -> argparse.ArgumentParser:
    """Every setting with flags, in its group; none has a default here (None: not given), so
    that ci.settings.resolve can tell the command line from the layers below it."""
    p = Parser(
        prog="build.py",
        description="Build and test a compiled project in per-platform containers.",
        epilog=EXAMPLES + exit_codes_text() + "\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for key, title in table.groups().items():
        g = p.add_argument_group(title)
        for s in table.settings():
            if s.group == key:
                add_flag(g, s)
        if key == "selection":
            g.add_argument(
                "words",
                nargs="*",
                metavar="FUNCTION [ARG...]",
                help="runtime function and its arguments; or `-- COMMAND...` for any command",
            )
    return p


def add_flag(g: argparse._ArgumentGroup, s: table.Setting) -> None:
    if s.type == "bool":
        # A switch whose default is true (`tests`) is turned off by its flag (--no-tests).
        action = "store_false" if s.default is True else "store_true"
        g.add_argument(*s.flags, dest=s.attr, action=action, default=None, help=s.help_text)
        return
    g.add_argument(
        *s.flags,
        dest=s.attr,
        action="append" if s.type == "list" else "store",
        type=TYPES.get(s.type, str),
        choices=list(s.choices) if s.choices else None,
        metavar=s.metavar,
        default=None,
        help=s.help_text,
    )
