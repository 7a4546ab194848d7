"""Decide which RUN step of a Dockerfile only installs Debian packages, and which: a call of
docker/install/debian_packages.sh, directly or through a script copied into the image whose one
command is that call (debian_build_tools.sh). Where an image's steps run under QEMU, those
packages are installed by this machine's own apt and dpkg instead (ci.images.nativepackages), and
the Dockerfile goes on from the image that makes. A call of docker/install/cross_toolchain.sh
installs packages too (the cross toolchain for the image's architecture, read from the copied
architecture table) and then writes files: its packages are made here the same way, and the RUN
stays, after them (its own install then finds them there and skips apt)."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import shlex
from collections.abc import Callable

from ci.planning import arches, emulation
from ci.planning.dockerfile import ESCAPE_DIRECTIVE, copied_sources, instructions

INSTALLER = "debian_packages.sh"
CROSS_TOOLCHAIN = "cross_toolchain.sh"
# The variable that tells cross_toolchain.sh another build machine's architecture than dpkg's
BUILD_DEBIAN = re.compile(r"^(ENV|ARG)\s.*\bCI_BUILD_DEBIAN\b", re.IGNORECASE | re.DOTALL)
# `exec "$(dirname "$0")/debian_packages.sh" PACKAGE...`: a script whose one command is that
SCRIPT_CALL = re.compile(r'^exec\s+"\$\(dirname\s+"\$0"\)/' + re.escape(INSTALLER) + r'"((?:\s+\S+)*)$')
SCRIPT_PREAMBLE = re.compile(r"^set\s+-[euxo]+(\s+pipefail)?$")
PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$")
SHELL_SYNTAX = re.compile(r"[;&|<>$`(){}*?\\'\"\[]")

# Reads a file of the build context by its path there; None where there is none.
ContextReader = Callable[[str], "str | None"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Install:
    """What a RUN installs: packages, the foreign Debian architectures the root must have for them
    (dpkg --add-architecture), and whether the RUN does more than that (it then stays)."""

    packages: tuple[str, ...]
    architectures: tuple[str, ...] = ()
    keep_run: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class PackageStep:
    """A Dockerfile cut at a RUN that installs packages: only them, or them and then more (keep_run:
    the RUN goes on after the layer of its packages, which it then finds installed)."""

    before: str  # the Dockerfile up to the RUN, as written
    packages: tuple[str, ...]
    run: str  # the RUN's own lines, as written
    after: str  # the lines after the RUN, as written
    stage_args: tuple[str, ...]  # the stage's ARG instructions before the RUN: the rest may read them
    architectures: tuple[str, ...] = ()  # foreign Debian architectures the layer adds, in order
    keep_run: bool = False  # the RUN stays after the layer (it writes files too)

    @property
    def kept_runs(self) -> int:
        """The RUN instructions of continued_from's text before `after` (the next step's search
        passes over them: first_package_step's skip)."""
        return 1 if self.keep_run else 0

    def continued_from(self, image: str) -> str:
        """The rest of the Dockerfile, from image (what `before` plus the RUN's packages make)."""
        args = (arg + "\n" for arg in self.stage_args)
        return "".join([f"FROM {image}\n", *args, self.run if self.keep_run else "", self.after])


def first_package_step(
    text: str, read: ContextReader, *, debian: str | None = None, skip: int = 0
) -> PackageStep | None:
    """The first RUN of a one-stage Dockerfile, after its first skip RUN instructions, that installs
    packages (only, or cross_toolchain.sh's on an image of Debian architecture debian: None leaves
    those to the image), or None (none, or a Dockerfile of several stages or parser directives)."""
    if ESCAPE_DIRECTIVE.match(text):
        return None
    steps = list(instructions(text))
    keywords = [line.split(None, 1)[0].upper() for line, _ in steps]
    if keywords.count("FROM") != 1:
        return None
    lines = text.splitlines(keepends=True)
    start = keywords.index("FROM")
    runs = [index for index in range(start + 1, len(steps)) if keywords[index] == "RUN"]
    for index in runs[skip:]:
        line, end = steps[index]
        before_end = steps[index - 1][1]
        before = "".join(lines[:before_end])
        stage = [step for step, _ in steps[start + 1 : index]]
        own = None if any(BUILD_DEBIAN.match(step) for step in stage) else debian
        found = run_install(line, copied_files(before), read, own)
        if found is None:
            continue
        return PackageStep(
            before=before,
            packages=found.packages,
            run="".join(lines[before_end:end]),
            after="".join(lines[end:]),
            stage_args=tuple(step for step in stage if step.split(None, 1)[0].upper() == "ARG"),
            architectures=found.architectures,
            keep_run=found.keep_run,
        )
    return None


def run_install(
    instruction: str, copied: dict[str, str], read: ContextReader, debian: str | None
) -> Install | None:
    """What a RUN instruction installs, where it is a plain call of the installer, of a copied
    script that only calls it, or of the copied cross_toolchain.sh (on an image of Debian
    architecture debian); else None."""
    argv = run_argv(instruction)
    if not argv:
        return None
    program, args = argv[0], argv[1:]
    if not all(PACKAGE.match(arg) for arg in args) or program not in copied:
        return None
    if posixpath.basename(program) == INSTALLER:
        return Install(packages=tuple(args)) if args else None
    if posixpath.basename(program) == CROSS_TOOLCHAIN:
        return cross_toolchain_install(program, args, copied, read, debian)
    script = read(copied[program])
    listed = script_packages(script) if script is not None else None
    return Install(packages=listed) if listed is not None and not args else None


def cross_toolchain_install(
    program: str, args: list[str], copied: dict[str, str], read: ContextReader, debian: str | None
) -> Install | None:
    """What `cross_toolchain.sh ARCH [PACKAGE...]` installs on an image of Debian architecture
    debian, from ARCH's row in the table it reads (../arches beside it, copied into the image):
    on ARCH's own, the PACKAGEs (None: none); on one of its cross_from, Debian's gcc-<triplet>,
    g++-<triplet> and pkgconf:<debian> and the PACKAGEs, with ARCH's Debian architecture added;
    on any other (the script refuses), or with no table, None."""
    table = copied.get(posixpath.normpath(posixpath.join(posixpath.dirname(program), "..", "arches")))
    text = read(table) if table and debian else None
    if text is None or not args:
        return None
    try:
        row = next((a for a in arches.parse(text, table or "") if a.arch == args[0]), None)
    except ValueError:
        return None
    extra = tuple(args[1:])
    if row is None or row.debian == arches.NONE:
        return None
    if row.debian == debian:
        return Install(packages=extra, keep_run=True) if extra else None
    if debian not in row.cross_from or arches.NONE in (row.triplet, row.qemu, row.cmake):
        return None
    compiler = row.triplet.replace("_", "-")
    packages = (f"gcc-{compiler}", f"g++-{compiler}", f"pkgconf:{row.debian}", *extra)
    return Install(packages=packages, architectures=(row.debian,), keep_run=True)


def run_argv(instruction: str) -> list[str] | None:
    """A RUN's program and arguments, in either form, where it is one plain command (no shell
    syntax, no flags such as --mount); else None."""
    rest = instruction.split(None, 1)[1].strip() if len(instruction.split(None, 1)) > 1 else ""
    if rest.startswith("["):
        try:
            argv = json.loads(rest)
        except ValueError:
            return None
        return [str(a) for a in argv] if isinstance(argv, list) and argv else None
    if not rest or rest.startswith("--") or SHELL_SYNTAX.search(rest):
        return None
    return shlex.split(rest)


def script_packages(text: str) -> tuple[str, ...] | None:
    """The packages of a script whose one command is `exec "$(dirname "$0")/debian_packages.sh"
    PACKAGE...` (after an optional `set -euo pipefail`); else None."""
    commands = [line for line, _ in instructions(text)]
    while commands and SCRIPT_PREAMBLE.match(commands[0]):
        commands.pop(0)
    if len(commands) != 1 or not (found := SCRIPT_CALL.match(commands[0])):
        return None
    packages = tuple(found.group(1).split())
    return packages if packages and all(PACKAGE.match(p) for p in packages) else None


def copied_files(text: str) -> dict[str, str]:
    """In-image path -> build context path of each file the COPY and ADD instructions of text
    copy into a directory (`COPY a/x.sh a/y.sh /opt/ci/install/`) or to a path of its own."""
    copied: dict[str, str] = {}
    for line, _ in instructions(text):
        sources = copied_sources(line)
        if not sources:
            continue
        destination = destination_of(line)
        if destination is None:
            continue
        for source in sources:
            if destination.endswith("/") or len(sources) > 1:
                copied[posixpath.join(destination, posixpath.basename(source))] = source
            else:
                copied[destination] = source
    return copied


def destination_of(instruction: str) -> str | None:
    """The last argument of a COPY or ADD (its destination), absolute, or None."""
    rest = instruction.split(None, 1)[1].strip()
    while rest.startswith("--"):
        rest = rest.split(None, 1)[1].strip() if len(rest.split(None, 1)) > 1 else ""
    try:
        words = [str(a) for a in json.loads(rest)] if rest.startswith("[") else shlex.split(rest)
    except ValueError:
        return None
    return words[-1] if words and words[-1].startswith("/") else None


def layer_dockerfile(
    base: str, removed: list[str], unconfigured: list[str], qemu_cpu: str | None = None
) -> str:
    """The Dockerfile of a package layer made outside the image: base, what changed (layer.tar),
    then in the image: what went (removed), the packages left to configure, the loader's cache
    (ldconfig: this machine's cannot read the target's libraries); under qemu_cpu as the image's
    own RUN steps are (arm64's default CPU authenticates pointers with QARMA5: several times
    slower)."""
    commands = []
    if removed:
        commands.append("rm -rf -- " + " ".join(shlex.quote("/" + path) for path in removed))
    if unconfigured:
        commands.append("DEBIAN_FRONTEND=noninteractive dpkg --configure -a")
    commands.append("ldconfig")
    arg = f"ARG {emulation.QEMU_CPU}={qemu_cpu}\n" if qemu_cpu else ""
    return f"FROM {base}\n{arg}ADD layer.tar /\nRUN {' && '.join(commands)}\n"
