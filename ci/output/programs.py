"""Know: the Debian package of a program a build calls or looks for, and of an autoconf macro a
configure.ac uses from another package (packages.toml), and how each build system says such a
program or macro is missing (pure patterns and lookups, for the hints)."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

TABLE_FILE = Path(__file__).with_name("packages.toml")
Groups = dict[str, str]
WHERE_TOOLS = "`build-packages` in the project's ciharness.toml"


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    with TABLE_FILE.open("rb") as f:
        return {
            section: {str(k): str(v) for k, v in rows.items()} for section, rows in tomllib.load(f).items()
        }


def package_of_program(name: str) -> str | None:
    return _table()["programs"].get(name)


def programs() -> Mapping[str, str]:
    """Every program the table knows -> its package."""
    return _table()["programs"]


def macros() -> Mapping[str, str]:
    """Every macro (or NAME_* prefix) the table knows -> its package."""
    return _table()["macros"]


def package_of_macro(macro: str) -> str | None:
    """The package whose .m4 defines macro: its own row, else the longest NAME_* prefix row."""
    rows = macros()
    if macro in rows:
        return rows[macro]
    prefixes = [key for key in rows if key.endswith("*") and macro.startswith(key[:-1])]
    return rows[max(prefixes, key=len)] if prefixes else None


def add_line(package: str) -> str:
    """Where a build-machine package goes, said once for every hint that names one."""
    return f'add "{package}" to {WHERE_TOOLS} (build-packages = ["{package}"]) and run again'


PROGRAM = r"[A-Za-z][A-Za-z0-9_.+-]*"
PREFIX = r"(?:\[[\w.+-]+\][ \t]*)?"  # a line's platform prefix, where several platforms ran
# How each build system says a program it looked for is missing, when the build cannot go on
# without it (an optional one it goes on without is no cause). Each group names the program.
MISSING_PROGRAM = re.compile(
    # Meson, a required find_program: "Program help2man found: NO" then
    # "meson.build:3:0: ERROR: Program 'help2man' not found or not executable".
    rf"ERROR: Program '(?P<meson>{PROGRAM})' not found or not executable"
    # Meson, the project's own error() naming the program it did not find.
    rf"|^{PREFIX}Program (?P<meson2>{PROGRAM}) found: NO\b[^\n]*\n(?:[^\n]*\n)*?"
    r"[^\n]*ERROR: [^\n]*\b(?P=meson2)\b"
    # configure: "checking for help2man... no", later "configure: error: ... help2man ...", not
    # PKG_CHECK_MODULES's "checking for zlib... no" and "Package requirements (zlib) were not met".
    rf"|^{PREFIX}checking for (?P<configure>{PROGRAM}(?<!\.h))\.\.\. no\s*\n(?:[^\n]*\n)*?"
    rf"{PREFIX}(?:[^\n]*: )?configure: error: (?!Package requirements)[^\n]*\b(?P=configure)\b"
    # CMake, find_program(... REQUIRED): "Could not find HELP2MAN using the following names: help2man".
    rf"|Could not find \w+ using the following names: (?P<cmake>{PROGRAM})",
    re.MULTILINE,
)


def missing_program(found: Sequence[Groups]) -> Groups:
    """The hint's fields for a program the build looked for (the latest report)."""
    name = next(iter(found[0].values()))
    return program_fields(name)


def program_fields(name: str) -> Groups:
    package = package_of_program(name) or package_of_program(name.lower())
    if package is None:
        how = (
            f"find the Debian package that provides it (apt-file search bin/{name}, or "
            f"packages.debian.org) and add it to {WHERE_TOOLS}"
        )
        return {"cmd": name, "how": how}
    return {"cmd": name, "how": f"Debian's package {package} provides it; {add_line(package)}"}


# autoconf, when configure.ac uses a macro no .m4 file it found defines:
# "configure.ac:245: error: possibly undefined macro: LT_SYS_SYMBOL_USCORE"; and configure itself,
# when such a macro was left unexpanded (no m4_pattern_forbid caught it), fails on its line:
# "./configure: line 4567: `PKG_CHECK_MODULES(GLIB, glib-2.0)'".
UNDEFINED_MACRO = re.compile(
    r"error: possibly undefined macro: (?P<macro>[A-Za-z_][A-Za-z0-9_]*)"
    r"|configure: line \d+: `(?P<macro2>[A-Z][A-Z0-9]*_[A-Z0-9_]+)\("
)


def undefined_macro(found: Sequence[Groups]) -> Groups:
    macro = next(iter(found[0].values()))
    package = package_of_macro(macro)
    if package is None:
        how = (
            "find the Debian package whose aclocal .m4 file defines it (packages.debian.org's "
            f"contents search for usr/share/aclocal/) and add it to {WHERE_TOOLS}, or copy that "
            ".m4 file into the project's m4/ dir"
        )
    else:
        how = f"Debian's package {package} ships the .m4 file that defines it; {add_line(package)}"
    return {"macro": macro, "how": how}
