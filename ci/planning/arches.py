"""The per-architecture table docker/arches (Docker platform, Debian architecture, QEMU name,
...), read on first use: the one place Python learns architecture facts. Pure."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from ci import REPO_ROOT

TABLE = REPO_ROOT / "docker" / "arches"
COLUMNS: tuple[str, ...] = ("arch", "platform", "debian", "repo", "triplet", "qemu", "qemu_cpu", "cmake")
COLUMNS += ("meson_family", "meson_cpu", "endian", "uname", "cross_from", "aliases")
NONE = "-"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Arch:
    arch: str  # the platforms' name for it: armv7
    platform: str  # Docker platform: linux/arm/v7
    debian: str  # Debian architecture: armhf ('-': none)
    repo: str  # Docker's per-architecture repository prefix: arm32v7
    triplet: str  # GNU triplet: arm-linux-gnueabihf ('-': no Debian cross toolchain)
    qemu: str  # QEMU's name: arm (qemu-arm, the binfmt_misc handler)
    qemu_cpu: str  # QEMU_CPU for its code under QEMU ('-': QEMU's default)
    cmake: str  # CMAKE_SYSTEM_PROCESSOR
    meson_family: str  # Meson cpu_family
    meson_cpu: str  # Meson cpu
    endian: str  # little or big
    uname: str  # uname -m
    cross_from: tuple[str, ...]  # Debian architectures Debian cross-compiles it on (not its own)
    aliases: tuple[str, ...]  # further --arch names and Docker platform spellings

    @property
    def names(self) -> tuple[str, ...]:
        """Every name --arch and `uname -m` lookups take for it (not Docker platforms)."""
        short = (self.arch, self.debian, self.uname, *self.aliases)
        return tuple(dict.fromkeys(n for n in short if n != NONE and not n.startswith("linux/")))

    @property
    def platforms(self) -> tuple[str, ...]:
        """Its Docker platform and other spellings of it (linux/arm64/v8 for linux/arm64)."""
        return (self.platform, *(a for a in self.aliases if a.startswith("linux/")))


def parse(text: str, source: str = "docker/arches") -> tuple[Arch, ...]:
    """Rows of the table: '#' comments and blank lines skipped, the first line left the header."""
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or tuple(lines[0]) != COLUMNS:
        raise ValueError(f"{source}: the header must be: {' '.join(COLUMNS)}")
    rows = []
    for fields in lines[1:]:
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{source}: row {fields[0]!r} has {len(fields)} fields, not {len(COLUMNS)}")
        values = dict(zip(COLUMNS, fields, strict=True))
        aliases, cross_from = (_listed(values.pop(column)) for column in ("aliases", "cross_from"))
        if values["debian"] in cross_from:
            raise ValueError(f"{source}: row {fields[0]!r} lists its own architecture in cross_from")
        rows.append(Arch(**values, aliases=aliases, cross_from=cross_from))
    return tuple(rows)


def _listed(field: str) -> tuple[str, ...]:
    """A comma-separated column: its names, none for '-'."""
    return tuple(name for name in field.split(",") if name != NONE)


@functools.cache
def table(path: Path = TABLE) -> tuple[Arch, ...]:
    return parse(path.read_text(encoding="utf-8"), str(path))


def by_name(name: str) -> Arch | None:
    """The row that name (armv7, armhf, aarch64, ...) names, or None."""
    return next((a for a in table() if name in a.names), None)


def by_platform(docker_platform: str) -> Arch | None:
    """The row of a Docker platform (or another spelling of it), or None."""
    return next((a for a in table() if docker_platform in a.platforms), None)


def by_repo(prefix: str) -> Arch | None:
    """The row of Docker's per-architecture repository prefix (arm32v7), or None."""
    return next((a for a in table() if a.repo == prefix), None)


def cross_toolchain_on(target_platform: str, build_platform: str) -> bool:
    """Whether Debian has a cross toolchain for the target (a Docker platform) on a build machine
    of build_platform: its Debian architecture is in the target's cross_from. False for the
    target's own platform (native, not cross) and for a platform not in the table."""
    target, build = by_platform(target_platform), by_platform(build_platform)
    return target is not None and build is not None and build.debian in target.cross_from
