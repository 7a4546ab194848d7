"""Decide which build system builds a source tree: recognised from the files at its root, in a
documented order, unless a setting names one (pure; reads only the root's file names)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import Literal, cast, get_args

from ci.errors import NoBuildSystemError

BuildSystem = Literal["cmake", "meson", "autotools", "make"]
BUILD_SYSTEMS: tuple[BuildSystem, ...] = get_args(BuildSystem)

# The order decides where a tree has several: a CMake or Meson build is the one a project keeps
# current (a Makefile beside them is often a convenience wrapper that calls them), and a
# configure script generates its Makefile.
MARKERS: tuple[tuple[BuildSystem, tuple[str, ...]], ...] = (
    ("cmake", ("CMakeLists.txt",)),
    ("meson", ("meson.build",)),
    ("autotools", ("configure", "configure.ac", "configure.in")),
    ("make", ("GNUmakefile", "makefile", "Makefile")),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Choice:
    """The build system chosen, and why: the file that made it, or the setting that named it."""

    system: BuildSystem
    reason: str


def recognise(names: Collection[str]) -> Choice | None:
    """The first build system in MARKERS order whose marker file is among the root's names."""
    for system, markers in MARKERS:
        for marker in markers:
            if marker in names:
                return Choice(system=system, reason=marker)
    return None


def choose(source: Path, setting: str, reason: str = "--build-system") -> Choice:
    """The setting ('auto' or a build system's name, as the settings layer checked its choices;
    reason: where that name came from) decides; 'auto' looks at the tree's root."""
    if setting != "auto":
        return Choice(system=cast(BuildSystem, setting), reason=reason)
    names = {p.name for p in source.iterdir()} if source.is_dir() else set()
    found = recognise(names)
    if found is None:
        looked = ", ".join(m for _, markers in MARKERS for m in markers)
        raise NoBuildSystemError(
            f"no build system recognised in {source}: looked for {looked}",
            hint="pass the project's root with --source DIR, or run your own command after --",
        )
    return found
