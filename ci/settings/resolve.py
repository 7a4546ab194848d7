"""Decide every setting's value, in one place: defaults < project file < environment < command
line (pure: reads only the mappings it is given, never os.environ)."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping

from ci.errors import UsageError
from ci.settings import table


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resolved:
    """Every setting's value by its attribute name, and the settings some layer above the
    defaults set (so that a check can tell "asked for" from "the default")."""

    values: Mapping[str, object]
    given: frozenset[str]  # setting names
    layers: Mapping[str, str] = dataclasses.field(default_factory=dict)  # name -> the layer that set it

    @property
    def pinned(self) -> frozenset[str]:
        """The settings the environment or the command line set: a project file's platform
        table cannot override them."""
        return frozenset(name for name, layer in self.layers.items() if layer in ("env", "argv"))

    def namespace(self) -> argparse.Namespace:
        return argparse.Namespace(**self.values)


def resolve(
    argv: argparse.Namespace | None = None,
    *,
    env: Mapping[str, str],
    project: Mapping[str, object] | None = None,
) -> Resolved:
    """argv: the parser's namespace (None where a flag was not given); env: the environment
    build.py was given; project: the project file's values by setting name (its top level,
    checked by ci.settings.projectfile)."""
    project = project or {}
    unknown = sorted(set(project) - {s.name for s in table.settings()})
    if unknown:
        raise UsageError(f"unknown setting(s) in the project file: {', '.join(unknown)}")
    values: dict[str, object] = {}
    layers: dict[str, str] = {}
    for s in table.settings():
        value, layer = s.value_default, "default"
        if s.name in project:
            value, layer = table.convert(s, project[s.name]), "project"
        if s.env and env.get(s.env):  # an empty variable counts as unset
            value, layer = table.convert(s, env[s.env]), "env"
        flagged = getattr(argv, s.attr, None) if argv is not None else None
        if flagged is not None:
            value, layer = flagged, "argv"
        values[s.attr] = value
        layers[s.name] = layer
    given = frozenset(name for name, layer in layers.items() if layer != "default")
    return Resolved(values=values, given=given, layers=layers)
