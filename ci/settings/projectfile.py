"""Decide what a project says of itself: its ciharness.toml read, every key and value checked against
the settings table, into one frozen ProjectFile (its top level, its [platform.<name>] tables and
its [variant.<name>] tables: the other ways it builds).

A file that is not TOML, a key the table does not know and a value of the wrong type are each
one line naming the file and line, with their own exit code, before anything is built.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from ci.errors import ProjectFileError, ProjectKeyError, ProjectValueError, UnknownPlatformError
from ci.settings import table

FILE_NAME = "ciharness.toml"
PLATFORM_TABLE = "platform"
VARIANT_TABLE = "variant"
TOP_ONLY = frozenset({"platforms", "variants"})  # keys a [platform.<name>] table cannot hold
# What a [variant.<name>] table may say: how the project is built and tested, not where.
EXAMPLE_TABLES = {PLATFORM_TABLE: "armv7", VARIANT_TABLE: "asan"}
VARIANT_KEYS = frozenset(
    {"compiler", "sanitize", "build-type", "coverage", "configure-args", "test-args", "environment"}
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProjectFile:
    """The project's settings by name (values typed as the table says), at the top level and for
    each platform named in a [platform.<name>] table; path None: the project has no file."""

    path: Path | None = None
    top: Mapping[str, object] = dataclasses.field(default_factory=dict)
    platforms: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)
    variants: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)  # in order
    text: str = ""

    def for_platform(self, name: str) -> dict[str, object]:
        """The top level with the platform's table over it."""
        return {**self.top, **self.platforms.get(name, {})}

    def where(self, key: str | None = None, table: str | None = None) -> str:
        """FILE:LINE of a key, at the top level or in a table (`platform.armv7`); FILE where its
        line is not found."""
        line = line_of(self.text, key, table) if key else None
        return f"{self.path}:{line}" if line else str(self.path)


NO_PROJECT = ProjectFile()


def project_keys() -> dict[str, table.Setting]:
    return {s.name: s for s in table.settings() if s.project}


def locate(source: Path, explicit: Path | None) -> Path | None:
    """The project file: the one given (which must exist), else ciharness.toml at the top of the
    source tree when there is one."""
    if explicit is not None:
        path = explicit.expanduser()
        if not path.is_file():
            raise ProjectFileError(
                f"project file {path} does not exist or is not a file",
                hint=f"name an existing file, or leave --project-file out to use the tree's {FILE_NAME}",
            )
        return path.resolve()
    found = source.expanduser() / FILE_NAME
    return found.resolve() if found.is_file() else None


def load(path: Path | None) -> ProjectFile:
    if path is None:
        return NO_PROJECT
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectFileError(f"cannot read the project file {path}: {exc}") from exc
    return parse(text, path)


def parse(text: str, path: Path) -> ProjectFile:
    """The file's settings, every key known and every value of its setting's type."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = at[1] if at else str(max(1, len(text.splitlines())))  # "at end of document"
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise ProjectFileError(
            f"{path}:{line}: not valid TOML: {reason}",
            hint='see https://toml.io; keys are kebab-case, e.g. packages = ["zlib1g-dev"]',
        ) from exc
    shell = ProjectFile(path=path, text=text)
    tables = {kind: data.pop(kind, {}) for kind in (PLATFORM_TABLE, VARIANT_TABLE)}
    top = checked_values(data, shell, None)
    for kind, found in tables.items():
        if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
            raise ProjectValueError(
                f"{shell.where(kind)}: '{kind}' holds one table per {kind}",
                hint=f"e.g. [{kind}.{EXAMPLE_TABLES[kind]}] on a line, then its keys below it",
            )
    platforms = {
        name: checked_values(v, shell, f"{PLATFORM_TABLE}.{name}")
        for name, v in tables[PLATFORM_TABLE].items()
    }
    variants = {
        name: checked_values(v, shell, f"{VARIANT_TABLE}.{name}") for name, v in tables[VARIANT_TABLE].items()
    }
    return dataclasses.replace(shell, top=top, platforms=platforms, variants=variants)


def checked_values(data: Mapping[str, object], project: ProjectFile, table: str | None) -> dict[str, object]:
    """table: None for the top level, else the table's dotted name (`platform.armv7`)."""
    known = project_keys()
    if table is None:
        allowed = sorted(known)
    elif table.startswith(VARIANT_TABLE + "."):
        allowed = sorted(VARIANT_KEYS)
    else:
        allowed = sorted(set(known) - TOP_ONLY)
    values: dict[str, object] = {}
    for key, value in data.items():
        if key not in allowed:
            raise unknown_key(key, allowed, project, table)
        values[key] = checked(known[key], value, project, table)
    return values


def unknown_key(key: str, allowed: list[str], project: ProjectFile, table: str | None) -> ProjectKeyError:
    where = f"[{table}]" if table else "the top level"
    tables = [] if table else [PLATFORM_TABLE, VARIANT_TABLE]
    close = difflib.get_close_matches(key, [*allowed, *tables], n=1)
    if table is None and key in tables:
        close = []
    if key in TOP_ONLY:
        hint = f"'{key}' belongs at the top level of the file"
    elif table and table.startswith(VARIANT_TABLE + ".") and key in project_keys():
        hint = f"'{key}' belongs at the top level or in a [{PLATFORM_TABLE}.<name>] table; a variant says "
        hint += f"only {', '.join(allowed)}"
    else:
        hint = f"did you mean '{close[0]}'? " if close else ""
        hint += f"the keys: {', '.join(allowed)}"
    return ProjectKeyError(f"{project.where(key, table)}: unknown key '{key}' in {where}", hint=hint)


def checked(setting: table.Setting, value: object, project: ProjectFile, where: str | None) -> object:
    """The value as its setting's type, or ProjectValueError saying what was expected."""
    problem, example = type_problem(setting, value)
    if problem:
        raise ProjectValueError(
            f"{project.where(setting.name, where)}: {setting.name} {problem}", hint=f"e.g. {example}"
        )
    return table.convert(setting, value)


def type_problem(setting: table.Setting, value: object) -> tuple[str, str]:
    """('', '') when value fits the setting's type; else what is wrong and an example."""
    problem = PROBLEMS[setting.type](setting, value)
    return (problem, example(setting)) if problem else ("", "")


def bool_problem(setting: table.Setting, value: object) -> str:
    return "" if isinstance(value, bool) else f"must be true or false, not {type_name(value)}"


def int_problem(setting: table.Setting, value: object) -> str:
    least = 0 if setting.default == 0 else 1  # retries = 0 turns reruns off; test-jobs = 0 means nothing
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return ""
    return f"must be a whole number of at least {least}, not {value!r}"


def str_problem(setting: table.Setting, value: object) -> str:
    if isinstance(value, str) and (not setting.choices or value in setting.choices):
        return ""
    return f"must be one of {', '.join(setting.choices or ())}, not {value!r}"


def list_problem(setting: table.Setting, value: object) -> str:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"must be a list of strings, not {type_name(value)}"
    one_a_line = setting.name != "pre-build"  # arguments reach the step one a line; commands are files
    return "items must be one line each" if one_a_line and any("\n" in v for v in value) else ""


def table_problem(setting: table.Setting, value: object) -> str:
    if not isinstance(value, dict):
        return f'must be a table of NAME = "VALUE", not {type_name(value)}'
    scalar = (str, int, float)
    bad = [
        k
        for k, v in value.items()
        if not table.ENV_NAME_RE.match(k) or not isinstance(v, scalar) or isinstance(v, bool)
    ]
    return f"has a bad variable {bad[0]!r} (a name of letters, digits and _, a string value)" if bad else ""


def path_problem(setting: table.Setting, value: object) -> str:
    return "" if isinstance(value, str) else f"must be a path, not {type_name(value)}"


PROBLEMS = {
    "bool": bool_problem,
    "int": int_problem,
    "float": int_problem,
    "str": str_problem,
    "list": list_problem,
    "table": table_problem,
    "path": path_problem,
}


def example(setting: table.Setting) -> str:
    name = setting.name
    items = {
        "packages": "zlib1g-dev",
        "build-packages": "xxd",
        "pre-build": "echo ready",
        "platforms": "amd64",
    }
    return {
        "bool": f"{name} = false",
        "int": f"{name} = 4",
        "str": f'{name} = "{(setting.choices or ("x",))[0]}"',
        "list": f'{name} = ["{items.get(name, "-DOPTION=ON")}"]',
        "table": f'{name} = {{ CFLAGS = "-O2" }}',
    }.get(setting.type, f'{name} = "x"')


def type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def check_platforms(project: ProjectFile, known: Iterable[str]) -> None:
    """Every [platform.<name>] names a platform that exists."""
    names = sorted(known)
    for name in project.platforms:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            raise UnknownPlatformError(
                f"{project.where(f'{PLATFORM_TABLE}.{name}')}: [{PLATFORM_TABLE}.{name}] names no platform",
                hint=(f"did you mean '{close[0]}'? " if close else "") + "./build.py -l lists them",
            )


def line_of(text: str, key: str, table: str | None) -> int | None:
    """The line where key is set, in the table (`platform.armv7`, `variant.asan`) or at the top
    level (before any table); None where it cannot be told."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header[1].replace('"', "").replace("'", "").replace(" ", "")
            if current == key and table is None:
                return number
            continue
        if current == table and re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", line):
            return number
    return None
