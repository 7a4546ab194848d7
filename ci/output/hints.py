"""Decide: known causes of a failed run, recognised from its exit status and last output lines.

One table (CAUSES) of patterns; each cause found gives one hint line. Pure: the run's exit
status is never changed, only explained.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

VERSION = r"[0-9][0-9A-Za-z.+~-]*[0-9A-Za-z]"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cause:
    """A known failure cause: a line matching pattern, or an exit status in statuses, gives hint
    (a str.format template over the match's named groups)."""

    name: str
    pattern: re.Pattern[str]
    hint: str
    statuses: frozenset[int] = frozenset()
    # More template fields, derived from the match's groups.
    derive: Callable[[dict[str, str]], dict[str, str]] = dict


# The Debian package (trixie) that provides a command real builds and tests call, for the
# command-not-found hint. A command not listed gets a way to look it up instead.
PACKAGE_OF: dict[str, str] = {
    "aclocal": "automake", "autoconf": "autoconf", "autopoint": "autopoint", "autoreconf": "autoconf",
    "automake": "automake", "bc": "bc", "bison": "bison", "bzip2": "bzip2", "clang": "clang",
    "cmake": "cmake", "curl": "curl", "doxygen": "doxygen", "flex": "flex", "gawk": "gawk",
    "gdb": "gdb", "git": "git", "gperf": "gperf", "gtkdocize": "gtk-doc-tools", "help2man": "help2man",
    "hexdump": "bsdextrautils", "jq": "jq", "lex": "flex", "libtool": "libtool",
    "libtoolize": "libtool", "m4": "m4", "makeinfo": "texinfo", "meson": "meson", "msgfmt": "gettext",
    "nasm": "nasm", "ninja": "ninja-build", "openssl": "openssl", "patch": "patch", "perl": "perl",
    "pkg-config": "pkgconf", "pkgconf": "pkgconf", "protoc": "protobuf-compiler",
    "python": "python-is-python3", "python3": "python3", "rsync": "rsync", "ruby": "ruby",
    "swig": "swig", "tclsh": "tcl", "unzip": "unzip", "valgrind": "valgrind", "wget": "wget",
    "xgettext": "gettext", "xmllint": "libxml2-utils", "xsltproc": "xsltproc", "xxd": "xxd",
    "xz": "xz-utils", "yacc": "bison", "yasm": "yasm", "zip": "zip",
}  # fmt: skip


def _package(groups: dict[str, str]) -> dict[str, str]:
    """The missing command (named `cmd`, or `cmd2` in the pattern's make branch) and its package."""
    cmd = groups.get("cmd") or groups.get("cmd2") or "?"
    package = PACKAGE_OF.get(cmd)
    if package is None:
        where = f"the Debian package that provides it (apt-file search bin/{cmd}, or packages.debian.org)"
    else:
        where = f"Debian's package {package} provides it"
    return {"cmd": cmd, "where": where, "package": package or "PACKAGE"}


CAUSES: tuple[Cause, ...] = (
    Cause(
        name="command-not-found",
        # sh: "sh: 1: xxd: not found"; bash: "bash: line 1: xxd: command not found"; make running
        # a recipe line without a shell: "make: xxd: No such file or directory".
        pattern=re.compile(
            r"(?:^|[\s:])(?P<cmd>[A-Za-z][A-Za-z0-9_.+-]*): (?:command )?not found\s*$"
            r"|^make(?:\[\d+\])?: (?P<cmd2>[A-Za-z][A-Za-z0-9_.+-]*): No such file or directory\s*$"
        ),
        hint=(
            "{cmd} is not in the build image: {where}; add it to the platform's Dockerfile "
            "(RUN /opt/ci/install/debian_packages.sh {package}) and run again: the image is rebuilt"
        ),
        derive=_package,
    ),
    Cause(
        name="newer-cmake",
        # CMake's own words: "CMake 3.29 or higher is required.  You are running version 3.25.1"
        pattern=re.compile(
            rf"CMake (?P<need>{VERSION}) or higher is required\."
            rf"\s+You are running version (?P<have>{VERSION})"
        ),
        hint=(
            "the project needs CMake {need} or newer and this image has CMake {have}: base the "
            "platform's Dockerfile on a newer Debian (trixie has CMake 3.31) or install a newer "
            "CMake in it (docker/Dockerfile.build.<platform>)"
        ),
    ),
    Cause(
        name="read-only-source",
        pattern=re.compile(r"Read-only file system"),
        hint=(
            "a write failed on a read-only file system: if it was the source tree, it was mounted "
            "read-only (--source-mode read-only, or a stated fallback); use --writable-source, or "
            "--source-mode copy-on-write where the engine can mount an overlay"
        ),
    ),
    Cause(
        name="exec-format",
        pattern=re.compile(r"exec format error", re.IGNORECASE),
        hint=(
            "a binary of a foreign architecture could not be run (exec format error): this host "
            "lacks its QEMU binfmt_misc handler; run sudo scripts/provision.sh to register them"
        ),
    ),
    Cause(
        name="out-of-memory",
        # GCC's driver when the kernel's OOM killer takes cc1/cc1plus or the linker, and GCC
        # itself when memory runs out.
        pattern=re.compile(
            r"fatal error: Killed signal terminated program"
            r"|terminated with signal 9 \[Killed\]"
            r"|virtual memory exhausted"
            r"|Cannot allocate memory"
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
        pattern=re.compile(r"No space left on device"),
        hint=(
            "a disk is full (No space left on device): run ./build.py --prune to remove outdated "
            "images, or free space where the engine keeps its data and the build dir lives"
        ),
    ),
    Cause(
        name="qemu-crash",
        # QEMU user mode's own reports: a target program died of a signal, an instruction it
        # cannot translate, or a crash of QEMU itself.
        pattern=re.compile(
            r"qemu: uncaught target signal"
            r"|qemu: unhandled CPU exception"
            r"|qemu: fatal:"
            r"|QEMU internal SIG[A-Z]+"
        ),
        hint=(
            "a program died under QEMU user-mode emulation: if it passes natively, QEMU is likely "
            "at fault; label the test no_emulation so emulated runs leave it out (README: What "
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
    """cause's hint when a line (the last match wins: the latest report) or status shows it."""
    for line in reversed(lines):
        match = cause.pattern.search(line)
        if match:
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            return cause.hint.format(**cause.derive(groups))
    if status in cause.statuses:
        return cause.hint.format()
    return None
