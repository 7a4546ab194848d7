"""Know: what the harness knows of one build system, as one frozen value (each module of this
package holds one, named SPEC)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from ci.buildsystems.junit import Case

# A reader of what a test runner left in the build dir: its cases, or None where it left nothing
# this run (files older than `fresh`, epoch seconds, are an earlier run's).
Reader = Callable[[Path, float], list[Case] | None]
# Which install script puts the build system's Debian packages in images: the build tools layer
# every image has (the test.<arch> userlands too), or the build systems layer above it.
Layer = Literal["build-tools", "build-systems"]
LIBRARY = r"[A-Za-z0-9_][\w.+-]*"  # a library as builds name it: ZLIB, libxml-2.0, gtk+-3.0, nlohmann_json
PROGRAM = r"[A-Za-z][A-Za-z0-9_.+-]*"  # a program as builds name it: help2man, glib-mkenums
PREFIX = r"(?:\[[\w.+-]+\][ \t]*)?"  # a line's platform prefix, where several platforms ran


@dataclasses.dataclass(frozen=True, kw_only=True)
class Results:
    """A test runner whose results are not our JUnit already: the tool its JUnit file and suite
    are named after (junit/<tool>-<platform>.xml, `<tool>.<platform>`) and its reader."""

    tool: str
    read: Reader


@dataclasses.dataclass(frozen=True, kw_only=True)
class BuildSystem:
    name: str  # the word of --build-system, the project file and CI_BUILD_SYSTEM
    markers: tuple[str, ...]  # the files at a tree's root that recognise it, in order
    packages: tuple[str, ...]  # Debian packages its steps run (on the build machine)
    layer: Layer
    test_command: str  # what runs its tests
    cross: str  # what a cross image gives it: the file its step hands the build system, or how
    results: tuple[Results, ...]  # its test runners' results ((): the runner writes our JUnit)
    build_types: tuple[str, ...]  # its own words for --build-type (any case), its default first
    programs: Mapping[str, str] = dataclasses.field(default_factory=dict)  # its commands -> packages
    # How it says a program it looked for is missing (a group per pattern names the program).
    missing_program: tuple[re.Pattern[str], ...] = ()
    # How it says a library the build needs is missing (groups name the library; see
    # ci.output.hints for the group names it reads).
    missing_library: tuple[re.Pattern[str], ...] = ()
