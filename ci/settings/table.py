"""Decide what settings exist: settings.toml read once into one frozen Setting per name (pure).

A data file rather than Python: the project file will use the same names, and the table reads as
one list of every setting, its flags, environment variable, default and help.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from pathlib import Path

from ci import REPO_ROOT

TABLE_FILE = Path(__file__).with_name("settings.toml")
TYPES = ("bool", "int", "float", "str", "path", "list")


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

    @property
    def attr(self) -> str:
        """The field of Options (and of argparse's namespace) that holds it."""
        return self.name.replace("-", "_")

    @property
    def value_default(self) -> object:
        """The default as the value Options holds: a path made absolute, a number typed, a
        list or switch empty."""
        if self.default is None:
            return {"bool": False, "list": []}.get(self.type)
        if self.type == "path":
            return REPO_ROOT / str(self.default)
        return convert(self, self.default)

    @property
    def help_text(self) -> str:
        return self.help.replace("{default}", str(self.default))


def convert(setting: Setting, value: object) -> object:
    """A value from the environment (a string) or the project file, as its type wants it."""
    match setting.type:
        case "int":
            return int(str(value))
        case "float":
            return float(str(value))
        case "path":
            return Path(str(value))
        case "list":
            return list(value) if isinstance(value, list | tuple) else [str(value)]
        case "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "yes", "true", "on")
        case _:
            return str(value)


@functools.cache
def load() -> tuple[tuple[Setting, ...], dict[str, str]]:
    """(every setting in the table's order, the --help groups: key -> title in order)."""
    data = tomllib.loads(TABLE_FILE.read_text(encoding="utf-8"))
    settings = tuple(
        Setting(
            **{k.replace("-", "_"): v for k, v in entry.items() if k not in ("flags", "choices")},
            flags=tuple(entry.get("flags", ())),
            choices=tuple(entry["choices"]) if "choices" in entry else None,
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
