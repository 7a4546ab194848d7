"""Know: the Debian package of a program a build calls or looks for (packages.toml, and each build
system's own programs), and the hint's words for one that is missing (pure lookups)."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ci import buildsystems

TABLE_FILE = Path(__file__).with_name("packages.toml")
Groups = dict[str, str]  # a match's named groups that matched
WHERE_TOOLS = "`build-packages` in the project's ciharness.toml"


@functools.cache
def programs() -> Mapping[str, str]:
    """Every program the hints know -> its package: packages.toml's, then the build systems'."""
    with TABLE_FILE.open("rb") as f:
        known = {str(k): str(v) for k, v in tomllib.load(f)["programs"].items()}
    for system in buildsystems.ALL:
        known.update(system.programs)
    return known


def package_of_program(name: str) -> str | None:
    return programs().get(name)


def add_line(package: str) -> str:
    """Where a build-machine package goes, said once for every hint that names one."""
    return f'add "{package}" to {WHERE_TOOLS} (build-packages = ["{package}"]) and run again'


def program_fields(name: str) -> Groups:
    """The hint's fields for a missing program: its name (cmd) and how to get it (how)."""
    package = package_of_program(name) or package_of_program(name.lower())
    if package is None:
        how = (
            f"find the Debian package that provides it (apt-file search bin/{name}, or "
            f"packages.debian.org) and add it to {WHERE_TOOLS}"
        )
        return {"cmd": name, "how": how}
    return {"cmd": name, "how": f"Debian's package {package} provides it; {add_line(package)}"}


def macro_fields(macro: str, package: str | None) -> Groups:
    """The hint's fields for an autoconf macro no .m4 file defined (package: whose .m4 does)."""
    if package is None:
        how = (
            "find the Debian package whose aclocal .m4 file defines it (packages.debian.org's "
            f"contents search for usr/share/aclocal/) and add it to {WHERE_TOOLS}, or copy that "
            ".m4 file into the project's m4/ dir"
        )
    else:
        how = f"Debian's package {package} ships the .m4 file that defines it; {add_line(package)}"
    return {"macro": macro, "how": how}
