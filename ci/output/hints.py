"""Decide: known causes of a failed run, recognised from its exit status and last output lines.

One table (CAUSES) of patterns; each cause found gives one hint line. Pure: the run's exit
status is never changed, only explained.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from ci import buildsystems
from ci.buildsystems import autotools
from ci.buildsystems.spec import LIBRARY, PROGRAM
from ci.output import libraries, programs

VERSION = r"[0-9][0-9A-Za-z.+~-]*[0-9A-Za-z]"

Groups = dict[str, str]  # a match's named groups that matched


def _latest(found: Sequence[Groups]) -> Groups:
    return dict(found[0])


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cause:
    """A known failure cause: a line matching one of patterns, or an exit status in statuses, gives hint
    (a str.format template over the latest match's named groups, or what derive makes of them)."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    hint: str
    statuses: frozenset[int] = frozenset()
    # The template's fields, from every match's groups (the latest first).
    derive: Callable[[Sequence[Groups]], Groups] = _latest
    # The patterns read the lines as one text (re.MULTILINE: a report that spans lines), not
    # line by line.
    across_lines: bool = False


def _program(found: Sequence[Groups]) -> Groups:
    """A missing program, the latest report's one group: a command a step ran, or a program a build
    system looked for."""
    return programs.program_fields(next(iter(found[0].values())))


def _macro(found: Sequence[Groups]) -> Groups:
    """An autoconf macro no .m4 file defined (the latest report)."""
    macro = next(iter(found[0].values()))
    return programs.macro_fields(macro, autotools.package_of_macro(macro))


# A missing header of a known library (libraries.LIBRARY_OF_HEADER; a directory stands for its headers).
KNOWN_HEADER = "|".join(
    re.escape(h) + (r"[\w./+-]+" if h.endswith("/") else "") for h in libraries.LIBRARY_OF_HEADER
)

# How a library the build needs is reported missing outside any one build system (pkg-config's
# words, alone or in configure's PKG_CHECK_MODULES error; the compiler's, for a known library's
# header); each build system adds its own (ci.buildsystems: missing_library). An optional one,
# which the build goes on without, is left out. Each group names the library.
MISSING_LIBRARY = (
    re.compile(
        rf"^Package '(?P<pc>{LIBRARY})', required by '[^']*', not found"
        rf"|^No package '(?P<pc2>{LIBRARY})' found"
        rf"|^Package (?P<pc3>{LIBRARY}) was not found in the pkg-config search path"
        # "fatal error: zlib.h: No such file or directory" (GCC), "'zlib.h' file not found" (clang).
        rf"|fatal error: '?(?P<header>{KNOWN_HEADER})'?(?:: No such file or directory| file not found)",
        re.MULTILINE,
    ),
    *(pattern for system in buildsystems.ALL for pattern in system.missing_library),
)


def _names(found: Sequence[Groups]) -> list[str]:
    """The libraries the matches name, in the order the output said them, each once."""
    said: list[str] = []
    for groups in reversed(found):
        for key, value in groups.items():
            if key == "listed":
                said += re.findall(rf"^[ \t]+- ({LIBRARY})", value, re.MULTILINE)
            elif key == "header":
                said.append(libraries.library_of_header(value) or value)
            else:
                said.append(value)
    unique: dict[str, str] = {}
    for name in said:
        unique.setdefault(name.lower(), name)
    return list(unique.values())


def _libraries(found: Sequence[Groups]) -> Groups:
    """The hint for missing libraries: the Debian -dev packages to list under `packages`, build
    tools (CMake finds programs too) under `build-packages`, a way to look up the others."""
    known: dict[str, str] = {}  # package -> the first name that asked for it
    tools: dict[str, str] = {}
    unknown: list[str] = []
    for name in _names(found):
        package = libraries.package_of(name)
        if package is not None:
            known.setdefault(package, name)
        elif (tool := programs.package_of_program(name.lower())) is not None:
            tools.setdefault(tool, name)
        else:
            unknown.append(name)
    parts = []
    if known:
        what = ", ".join(f"{name} (Debian's {package})" for package, name in known.items())
        listed = ", ".join(f'"{package}"' for package in known)
        them = "it" if len(known) == 1 else "them"
        parts.append(
            f"the build needs {what} for the target and the image has none: add {them} to "
            f"`packages` in the project's ciharness.toml (packages = [{listed}]), which installs "
            f"{them} for each platform's architecture"
        )
    if tools:
        what = ", ".join(f"{name} (Debian's {package})" for package, name in tools.items())
        parts.append(
            f"the build needs the build tool {what}: add it to `build-packages` in the "
            "project's ciharness.toml"
        )
    if unknown or not parts:
        what = ", ".join(unknown) or "a library"
        look = " or ".join(f"apt-cache search {name.lower()}" for name in unknown) or "packages.debian.org"
        parts.append(
            f"the build needs {what} for the target and the image has none: add the Debian -dev "
            f"package that provides it ({look}) to `packages` in the project's ciharness.toml"
        )
    return {"text": "; ".join(parts)}


CAUSES: tuple[Cause, ...] = (
    Cause(
        name="command-not-found",
        # sh: "sh: 1: xxd: not found"; bash: "bash: line 1: xxd: command not found"; make running
        # a recipe line without a shell: "make: xxd: No such file or directory".
        patterns=(
            re.compile(
                rf"(?:^|[\s:])(?P<cmd>{PROGRAM}): (?:command )?not found\s*$"
                rf"|^make(?:\[\d+\])?: (?P<cmd2>{PROGRAM}): No such file or directory\s*$"
            ),
        ),
        hint="{cmd} is not in the build image: {how}",
        derive=_program,
    ),
    Cause(
        name="missing-program",
        patterns=tuple(pattern for system in buildsystems.ALL for pattern in system.missing_program),
        hint="the build looked for the program {cmd} and the image has none: {how}",
        derive=_program,
        across_lines=True,
    ),
    Cause(
        name="undefined-macro",
        patterns=(autotools.UNDEFINED_MACRO,),
        hint="configure.ac uses the autoconf macro {macro}, which no .m4 file in the image defines: {how}",
        derive=_macro,
    ),
    Cause(
        name="missing-library", patterns=MISSING_LIBRARY, hint="{text}", derive=_libraries, across_lines=True
    ),
    Cause(
        name="newer-cmake",
        # CMake's own words: "CMake 3.29 or higher is required.  You are running version 3.25.1"
        patterns=(
            re.compile(
                rf"CMake (?P<need>{VERSION}) or higher is required\."
                rf"\s+You are running version (?P<have>{VERSION})"
            ),
        ),
        hint=(
            "the project needs CMake {need} or newer and this image has CMake {have}: base the "
            "platform's Dockerfile on a newer Debian (trixie has CMake 3.31) or install a newer "
            "CMake in it (docker/Dockerfile.build.<platform>)"
        ),
    ),
    Cause(
        name="read-only-source",
        patterns=(re.compile(r"Read-only file system"),),
        hint=(
            "a write failed on a read-only file system: if it was the source tree, it was mounted "
            "read-only (--source-mode read-only, or a stated fallback); use --writable-source, or "
            "--source-mode copy-on-write where the engine can mount an overlay"
        ),
    ),
    Cause(
        name="exec-format",
        patterns=(re.compile(r"exec format error", re.IGNORECASE),),
        hint=(
            "a binary of a foreign architecture could not be run (exec format error): this host "
            "lacks its QEMU binfmt_misc handler; run sudo scripts/provision.sh to register them"
        ),
    ),
    Cause(
        name="out-of-memory",
        # GCC's driver when the kernel's OOM killer takes cc1/cc1plus or the linker, and GCC
        # itself when memory runs out.
        patterns=(
            re.compile(
                r"fatal error: Killed signal terminated program"
                r"|terminated with signal 9 \[Killed\]"
                r"|virtual memory exhausted"
                r"|Cannot allocate memory"
            ),
        ),
        statuses=frozenset({137}),
        hint=(
            "the run ran out of memory (killed by the kernel's out-of-memory killer, or an "
            "allocation failed): give fewer compile jobs with --build-jobs N (default: one per "
            "GiB of available memory)"
        ),
    ),
    Cause(
        name="disk-full",
        patterns=(re.compile(r"No space left on device"),),
        hint=(
            "a disk is full (No space left on device): run ./build.py --prune to remove outdated "
            "images, or free space where the engine keeps its data and the build dir lives"
        ),
    ),
    Cause(
        name="qemu-crash",
        # QEMU user mode's own reports: a target program died of a signal, an instruction it
        # cannot translate, or a crash of QEMU itself.
        patterns=(
            re.compile(
                r"qemu: uncaught target signal"
                r"|qemu: unhandled CPU exception"
                r"|qemu: fatal:"
                r"|QEMU internal SIG[A-Z]+"
            ),
        ),
        hint=(
            "a program died under QEMU user-mode emulation: if it passes natively, QEMU is likely "
            "at fault; label the test no_emulation so emulated runs leave it out (docs/platforms.md: What "
            "QEMU gets wrong)"
        ),
    ),
)


def hints_for(status: int, lines: Sequence[str]) -> list[str]:
    """One hint line per known cause of a failed run (status != 0), in CAUSES order."""
    if status == 0:
        return []
    hints: list[str] = []
    for cause in CAUSES:
        hint = hint_of(cause, status, lines)
        if hint is not None and hint not in hints:
            hints.append(hint)
    return hints


def hint_of(cause: Cause, status: int, lines: Sequence[str]) -> str | None:
    """cause's hint when its pattern matches (the latest report first) or status shows it."""
    found = matches(cause, lines)
    if found:
        return cause.hint.format(**cause.derive(found))
    if status in cause.statuses:
        return cause.hint.format()
    return None


def matches(cause: Cause, lines: Sequence[str]) -> list[Groups]:
    """The named groups of cause's matches in lines, the latest first: one per matching line, or
    every match in the lines read as one text (across_lines)."""
    if cause.across_lines:
        text = "\n".join(lines)
        found = sorted((m for p in cause.patterns for m in p.finditer(text)), key=lambda m: m.start())
    else:
        found = [m for line in lines for p in cause.patterns if (m := p.search(line))]
    return [{k: v for k, v in m.groupdict().items() if v is not None} for m in reversed(found)]
