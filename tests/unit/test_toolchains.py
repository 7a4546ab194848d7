"""The shipped platforms: every toolchain's CMAKE_CROSSCOMPILING_EMULATOR is a command its
image installs (a missing one makes ctest mark every test Not Run), and every cross platform
has one. Reads docker/ only; the integration tier runs them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ci.planning.dockerfile import copied_sources, logical_lines
from ci.planning.platforms import Platform, discover

DOCKER = Path(__file__).resolve().parents[2] / "docker"
EMULATOR_RE = re.compile(r"^set\(CMAKE_CROSSCOMPILING_EMULATOR\s+/usr/local/bin/qemu-([a-z0-9_]+)\)$", re.M)
CROSS = [p for p in discover(DOCKER).values() if p.target != p.docker_platform]


def installed_emulators(dockerfile: Path) -> set[str]:
    """QEMU architecture names the Dockerfile's RUN emulator_commands.sh lines install."""
    archs: set[str] = set()
    for line in logical_lines(dockerfile.read_text(encoding="utf-8")):
        words = shlex.split(line)
        if words[0].upper() == "RUN" and words[1].endswith("/emulator_commands.sh"):
            archs.update(words[2:])
    return archs


def test_there_are_cross_platforms() -> None:
    assert {p.name for p in CROSS} >= {"i386", "armv7", "arm64", "s390x", "ppc64le", "riscv64"}


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_cross_toolchain_names_an_emulator_its_image_installs(platform: Platform) -> None:
    dockerfile = platform.dockerfile
    copied = copied_sources(dockerfile.read_text(encoding="utf-8"))
    toolchains = [s for s in copied if s.startswith("toolchains/")]
    assert len(toolchains) == 1, toolchains
    emulators = EMULATOR_RE.findall((DOCKER / toolchains[0]).read_text(encoding="utf-8"))
    assert len(emulators) == 1, f"{toolchains[0]} sets no CMAKE_CROSSCOMPILING_EMULATOR"
    assert emulators[0] in installed_emulators(dockerfile)


def test_every_toolchain_is_used_by_a_platform_that_installs_its_emulator() -> None:
    used = {s for p in CROSS for s in copied_sources(p.dockerfile.read_text(encoding="utf-8"))}
    for toolchain in sorted((DOCKER / "toolchains").glob("*.cmake")):
        assert f"toolchains/{toolchain.name}" in used, toolchain
