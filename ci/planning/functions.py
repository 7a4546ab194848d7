"""Decide what a run executes: a function of runtime_functions.sh or a raw command.

The function names are read from the script's text, so an unknown one is reported before any
container exists.
"""

from __future__ import annotations

import difflib
import re

from ci.errors import UnknownFunctionError, UsageError
from ci.planning.platforms import Platform

# `name() {`, `function name {` and `function name() {`, indented or not.
FUNCTION_RE = re.compile(
    r"^\s*(?:function\s+([A-Za-z][A-Za-z0-9_]*)\s*(?:\(\s*\))?\s*[{(]|([A-Za-z][A-Za-z0-9_]*)\s*\(\s*\))",
    re.MULTILINE,
)
SCRIPT_IN_CONTAINER = "/work/runtime_functions.sh"
GENERIC_BUILD = "build_generic"


def defined_functions(script_text: str) -> list[str]:
    """Public functions of runtime_functions.sh (names starting with '_' are helpers)."""
    return sorted({a or b for a, b in FUNCTION_RE.findall(script_text)})


def default_function(platform: Platform, functions: list[str]) -> str:
    specific = f"build_{platform.function_suffix}"
    return specific if specific in functions else GENERIC_BUILD


def resolve_command(
    platform: Platform,
    words: list[str],
    raw: list[str],
    functions: list[str],
) -> tuple[str, ...]:
    """The argv to run in the container.

    words: positional words before '--': a runtime function and its arguments.
    raw: everything after '--': any command.
    """
    if words and raw:
        raise UsageError(f"give either a runtime function ({words[0]!r}) or a command after '--', not both")
    if raw:
        return tuple(raw)
    name = words[0] if words else default_function(platform, functions)
    if name not in functions:
        close = difflib.get_close_matches(name, functions, n=3)
        raise UnknownFunctionError(
            f"unknown runtime function {name!r} in runtime_functions.sh"
            + (f"; did you mean {', '.join(close)}?" if close else ""),
            hint="known: " + ", ".join(functions) + "; to run any command, put it after '--'",
        )
    return (SCRIPT_IN_CONTAINER, name, *words[1:])
