"""The shipped cross platforms: each cross Dockerfile names an architecture of docker/arches, and
the toolchain file docker/install/cross_toolchain.sh writes for it has the right compilers,
processor and emulator, an emulator the same script installs (a missing one makes ctest mark
every test Not Run). Runs the script's text generation with bash; the integration tier builds
the images."""

from __future__ import annotations

import dataclasses
import functools
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from ci.planning import arches
from ci.planning.dockerfile import copied_sources, logical_lines
from ci.planning.platforms import Platform, discover

DOCKER = Path(__file__).resolve().parents[2] / "docker"
SCRIPT = DOCKER / "install" / "cross_toolchain.sh"
CROSS = [p for p in discover(DOCKER).values() if p.target != p.docker_platform]
SET_RE = re.compile(r"^set\((\w+)\s+(\S+)\)$", re.M)

# What the toolchain files said before they were generated: (triplet, processor, QEMU name).
WAS = {
    "i386": ("i686-linux-gnu", "i686", "i386"),
    "armv7": ("arm-linux-gnueabihf", "arm", "arm"),
    "arm64": ("aarch64-linux-gnu", "aarch64", "aarch64"),
    "s390x": ("s390x-linux-gnu", "s390x", "s390x"),
    "ppc64le": ("powerpc64le-linux-gnu", "ppc64le", "ppc64le"),
    "riscv64": ("riscv64-linux-gnu", "riscv64", "riscv64"),
}


def cross_run(dockerfile: Path) -> list[str]:
    """The arguments of the Dockerfile's one RUN .../cross_toolchain.sh line: ARCH [PACKAGE...]."""
    runs = [
        words[2:]
        for words in (shlex.split(line) for line in logical_lines(dockerfile.read_text(encoding="utf-8")))
        if words[0].upper() == "RUN" and words[1].endswith("/cross_toolchain.sh")
    ]
    assert len(runs) == 1, f"{dockerfile.name} must RUN cross_toolchain.sh ARCH once: {runs}"
    return runs[0]


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, check=False, env=env, timeout=30
    )


@functools.cache
def toolchain(arch: str) -> dict[str, str]:
    result = script("--cmake", arch)
    assert result.returncode == 0, result.stderr
    return dict(SET_RE.findall(result.stdout))


def test_there_are_cross_platforms() -> None:
    assert {p.name for p in CROSS} >= set(WAS)


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_cross_dockerfile_names_an_arch_with_a_complete_row(platform: Platform) -> None:
    arch = arches.by_name(cross_run(platform.dockerfile)[0])
    assert arch is not None and arch.arch == cross_run(platform.dockerfile)[0]
    assert arch.platform == platform.target, "its ci.target is its row's platform"
    row = dataclasses.asdict(arch)
    assert all(v and v != arches.NONE for k, v in row.items() if k != "aliases"), row
    text = platform.dockerfile.read_text(encoding="utf-8")
    copied = copied_sources(text)
    assert {
        "arches",
        "install/cross_toolchain.sh",
        "install/qemu-user",
        "install/emulator_commands.sh",
    } <= set(copied)
    env = [line for line in logical_lines(text) if line.upper().startswith("ENV ")]
    assert env == ["ENV CMAKE_TOOLCHAIN_FILE=/opt/ci/toolchain.cmake QEMU_LD_PREFIX=/opt/ci/sysroot"]


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_generated_toolchain_has_the_compilers_processor_and_emulator(platform: Platform) -> None:
    arch = arches.by_name(cross_run(platform.dockerfile)[0])
    assert arch is not None
    got = toolchain(arch.arch)
    assert got == {
        "CMAKE_SYSTEM_NAME": "Linux",
        "CMAKE_SYSTEM_PROCESSOR": arch.cmake,
        "CMAKE_C_COMPILER": f"{arch.triplet}-gcc",
        "CMAKE_CXX_COMPILER": f"{arch.triplet}-g++",
        "CMAKE_FIND_ROOT_PATH": f"/usr/{arch.triplet}",
        "CMAKE_FIND_ROOT_PATH_MODE_PROGRAM": "NEVER",
        "CMAKE_FIND_ROOT_PATH_MODE_LIBRARY": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_INCLUDE": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_PACKAGE": "ONLY",
        "CMAKE_CROSSCOMPILING_EMULATOR": f"/usr/local/bin/qemu-{arch.qemu}",
    }
    if platform.name in WAS:  # what the hand-written files said
        triplet, processor, qemu = WAS[platform.name]
        assert got["CMAKE_C_COMPILER"] == f"{triplet}-gcc"
        assert got["CMAKE_SYSTEM_PROCESSOR"] == processor
        assert got["CMAKE_CROSSCOMPILING_EMULATOR"] == f"/usr/local/bin/qemu-{qemu}"


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_the_image_installs_its_toolchains_compilers_sysroot_and_emulator(
    platform: Platform, tmp_path: Path
) -> None:
    args = cross_run(platform.dockerfile)
    result = script(
        "--dry-run", *args, env={"PATH": "/usr/bin:/bin", "CMAKE_TOOLCHAIN_FILE": str(tmp_path / "t")}
    )
    assert result.returncode == 0, result.stderr
    actions = [line.split() for line in result.stdout.splitlines()]
    got = toolchain(args[0])
    compilers = [got["CMAKE_C_COMPILER"], got["CMAKE_CXX_COMPILER"]]
    (packages,) = [a[1:] for a in actions if a[0].endswith("/debian_packages.sh")]
    assert packages == [c.rsplit("-", 1)[1] + "-" + c.rsplit("-", 1)[0] for c in compilers] + args[1:]
    assert ["write", str(tmp_path / "t")] in actions
    assert ["ln", "-sfn", got["CMAKE_FIND_ROOT_PATH"], "/opt/ci/sysroot"] in actions
    (emulators,) = [a[1:] for a in actions if a[0].endswith("/emulator_commands.sh")]
    assert [f"/usr/local/bin/qemu-{e}" for e in emulators] == [got["CMAKE_CROSSCOMPILING_EMULATOR"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cmake", "vax"], "no row for 'vax'"),
        (["--cmake", "armv6"], "'armv6' has no cross toolchain"),  # no Debian cross compiler
        (["--dry-run"], "usage"),
    ],
)
def test_the_script_refuses_what_the_table_cannot_make(args: list[str], message: str) -> None:
    result = script(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert result.stdout == ""
