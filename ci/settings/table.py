"""Decide what settings exist: settings.toml read once into one frozen Setting per name (pure).

A data file rather than Python: the project file will use the same names, and the table reads as
one list of every setting, its flags, environment variable, default and help.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci import REPO_ROOT, buildsystems

TABLE_FILE = Path(__file__).with_name("settings.toml")
# An environment variable's name (-e NAME=VALUE, the project file's [environment]).
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPES = ("bool", "int", "float", "str", "path", "list", "table")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Setting:
    name: str  # kebab-case: the word of the command line, the project file and Options' field
    type: str  # one of TYPES
    flags: tuple[str, ...] = ()
    env: str | None = None  # the environment variable that sets it, where one does
    default: object = None  # as written in the table (a path: relative to the checkout)
    choices: tuple[str, ...] | None = None
    group: str | None = None  # the --help section; None: not on the command line
    metavar: str | None = None
    help: str = ""
    project: bool = False  # a key of the project file (ciharness.toml)
    project_help: str = ""  # its text in the project file's table, where help reads as a flag's

    @property
    def attr(self) -> str:
        """The field of Options (and of argparse's namespace) that holds it."""
        return self.name.replace("-", "_")

    @property
    def value_default(self) -> object:
        """The default as the value Options holds: a path made absolute, a number typed, a
        list or switch empty."""
        if self.default is None:
            return {"bool": False, "list": [], "table": {}}.get(self.type)
        if self.type == "path":
            return REPO_ROOT / str(self.default)
        return convert(self, self.default)

    @property
    def help_text(self) -> str:
        return self.help.replace("{default}", str(self.default))


def convert(setting: Setting, value: object) -> object:
    """A value from the environment (a string) or the project file, as its type wants it."""
    return CONVERTERS.get(setting.type, str)(value)


def to_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [str(value)]


def to_table(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def to_bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "yes", "true", "on")


CONVERTERS: dict[str, Callable[[object], object]] = {
    "int": lambda v: int(str(v)),
    "float": lambda v: float(str(v)),
    "path": lambda v: Path(str(v)),
    "list": to_list,
    "table": to_table,
    "bool": to_bool,
}


# Lists a row takes from elsewhere (`choices = "build-systems"` with its first words before):
# the build systems' names, in their order of recognition (ci.buildsystems).
CHOICES_FROM: dict[str, Callable[[], tuple[str, ...]]] = {"build-systems": buildsystems.names}


def _choices(entry: dict[str, Any]) -> tuple[str, ...] | None:
    """A row's choices: listed, or `choices-from` a list named in CHOICES_FROM after those listed."""
    listed = tuple(entry.get("choices", ()))
    if "choices-from" in entry:
        return listed + CHOICES_FROM[entry["choices-from"]]()
    return listed or None


def _text(text: str) -> str:
    """A help text with `{build-systems}` written out as the build systems' list."""
    return text.replace("{build-systems}", buildsystems.listed())


@functools.cache
def load() -> tuple[tuple[Setting, ...], dict[str, str]]:
    """(every setting in the table's order, the --help groups: key -> title in order)."""
    data = tomllib.loads(TABLE_FILE.read_text(encoding="utf-8"))
    skipped = ("flags", "choices", "choices-from", "help", "project-help")
    settings = tuple(
        Setting(
            **{k.replace("-", "_"): v for k, v in entry.items() if k not in skipped},
            flags=tuple(entry.get("flags", ())),
            choices=_choices(entry),
            help=_text(entry.get("help", "")),
            project_help=_text(entry.get("project-help", "")),
        )
        for entry in data["setting"]
    )
    return settings, dict(data["groups"])


def settings() -> tuple[Setting, ...]:
    return load()[0]


def groups() -> dict[str, str]:
    return load()[1]


def by_name(name: str) -> Setting:
    (found,) = [s for s in settings() if s.name == name]
    return found
