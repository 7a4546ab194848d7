"""Know: every build system the harness takes, and which one builds a source tree."""

# One module each (cmake, meson, autotools, make) holding a SPEC, and one step file of the same
# name (`<name>.sh`, sourced by runtime_functions.sh). The rest of the harness reads them from
# here: the settings' choices, the results readers, the hints' patterns and programs;
# tests/unit/test_buildsystems.py checks that the install scripts and the step files agree.

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from ci.buildsystems import autotools, cmake, make, meson
from ci.buildsystems.spec import BuildSystem as BuildSystem
from ci.errors import NoBuildSystemError

# In the order that recognises a tree that has several: a CMake or Meson build is the one a
# project keeps current (a Makefile beside them is often a convenience wrapper that calls them),
# and a configure script generates its Makefile.
ALL: tuple[BuildSystem, ...] = (cmake.SPEC, meson.SPEC, autotools.SPEC, make.SPEC)
# Where the step files are: mounted at /work/ci/buildsystems, beside /work/runtime_functions.sh.
STEPS_DIR = Path(__file__).parent


def names() -> tuple[str, ...]:
    return tuple(system.name for system in ALL)


def listed(word: str = "or") -> str:
    """The names as a sentence lists them: "cmake, meson, autotools or make"."""
    every = names()
    return f"{', '.join(every[:-1])} {word} {every[-1]}"


def by_name(name: str) -> BuildSystem:
    return next(system for system in ALL if system.name == name)


def step_files() -> tuple[Path, ...]:
    return tuple(STEPS_DIR / f"{system.name}.sh" for system in ALL)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Choice:
    """The build system chosen, and why: the file that made it, or the setting that named it."""

    system: str  # a name of ALL
    reason: str


def recognise(root_names: Collection[str]) -> Choice | None:
    """The first build system in ALL's order whose marker file is among the root's names."""
    for system in ALL:
        for marker in system.markers:
            if marker in root_names:
                return Choice(system=system.name, reason=marker)
    return None


def choose(source: Path, setting: str, reason: str = "--build-system") -> Choice:
    """The setting ('auto' or a build system's name, as the settings layer checked its choices;
    reason: where that name came from) decides; 'auto' looks at the tree's root."""
    if setting != "auto":
        return Choice(system=setting, reason=reason)
    root_names = {p.name for p in source.iterdir()} if source.is_dir() else set()
    found = recognise(root_names)
    if found is None:
        looked = ", ".join(m for system in ALL for m in system.markers)
        raise NoBuildSystemError(
            f"no build system recognised in {source}: looked for {looked}",
            hint="pass the project's root with --source DIR, or run your own command after --",
        )
    return found
