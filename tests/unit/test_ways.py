"""How every shipped platform builds on an amd64, an arm64 and an s390x engine: the image's
platform, the toolchain in it, what needs QEMU, the image tag's kind and the way it is said."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ci import REPO_ROOT
from ci.errors import PlatformDefinitionError
from ci.planning import emulation, platformrun, runspec, ways
from ci.planning.platforms import Platform, discover, parse_dockerfile

DOCKER = REPO_ROOT / "docker"
SHIPPED = discover(DOCKER)
AMD64, ARM64, S390X, ARMV7, I386 = "linux/amd64", "linux/arm64", "linux/s390x", "linux/arm/v7", "linux/386"
PPC, RISCV = "linux/ppc64le", "linux/riscv64"
CROSS_QEMU = ways.CROSS_QEMU

# platform -> (image platform, way, QEMU needed for) on each engine
PLANS: dict[str, dict[str, tuple[str, str, list[str]]]] = {
    AMD64: {
        "amd64": (AMD64, "native", []),
        "i386": (AMD64, "cross", []),  # an x86-64 kernel runs i386 binaries itself
        "armv7": (AMD64, CROSS_QEMU, [ARMV7]),
        "arm64": (AMD64, CROSS_QEMU, [ARM64]),
        "s390x": (AMD64, CROSS_QEMU, [S390X]),
        "ppc64le": (AMD64, CROSS_QEMU, [PPC]),
        "riscv64": (AMD64, CROSS_QEMU, [RISCV]),
        "test.armv7": (ARMV7, "emulated", [ARMV7]),
        "test.arm64": (ARM64, "emulated", [ARM64]),
    },
    ARM64: {
        "amd64": (ARM64, CROSS_QEMU, [AMD64]),  # Debian's x86-64-linux-gnu cross gcc on arm64
        "i386": (ARM64, CROSS_QEMU, [I386]),
        "armv7": (ARM64, "cross", []),  # AArch32 binaries run on an arm64 kernel that has it
        "arm64": (ARM64, "native", []),
        "s390x": (ARM64, CROSS_QEMU, [S390X]),
        "ppc64le": (ARM64, CROSS_QEMU, [PPC]),
        "riscv64": (ARM64, CROSS_QEMU, [RISCV]),
        "test.armv7": (ARMV7, "native", []),
        "test.arm64": (ARM64, "native", []),
    },
    S390X: {
        "amd64": (S390X, CROSS_QEMU, [AMD64]),
        "i386": (S390X, CROSS_QEMU, [I386]),
        "armv7": (S390X, CROSS_QEMU, [ARMV7]),
        "arm64": (S390X, CROSS_QEMU, [ARM64]),
        "s390x": (S390X, "native", []),
        "ppc64le": (S390X, CROSS_QEMU, [PPC]),
        "riscv64": (S390X, CROSS_QEMU, [RISCV]),
        "test.armv7": (ARMV7, "emulated", [ARMV7]),
        "test.arm64": (ARM64, "emulated", [ARM64]),
    },
}


def test_the_table_covers_every_shipped_platform() -> None:
    for plans in PLANS.values():
        assert set(plans) == set(SHIPPED)


@pytest.mark.parametrize(
    ("engine", "name"), [(engine, name) for engine, plans in PLANS.items() for name in plans]
)
def test_plan_of_each_shipped_platform_on_each_engine(engine: str, name: str) -> None:
    image, way, foreign = PLANS[engine][name]
    platform = ways.on_engine(SHIPPED[name], engine)
    assert platform.docker_platform == image
    assert platform.target == SHIPPED[name].target  # the binaries built are the same on every engine
    assert emulation.needed(platform, engine) == foreign
    assert ways.way(platform, engine) == way
    kind = "native" if image == platform.target else "cross"
    assert runspec.image_ref(platform, DOCKER).tag.endswith("-" + kind)


def test_arm64_on_an_arm64_engine_is_a_native_image_of_its_own_tag() -> None:
    """The native and the cross image of one platform: two tags, the kind in each."""
    arm64 = SHIPPED["arm64"]
    native = runspec.image_ref(ways.on_engine(arm64, ARM64), DOCKER)
    cross = runspec.image_ref(ways.on_engine(arm64, AMD64), DOCKER)
    assert native.repository == cross.repository == "ciharness/arm64"
    assert native.tag.endswith("-native") and cross.tag.endswith("-cross")
    assert native.tag[:16] != cross.tag[:16]


def test_without_a_cross_toolchain_on_the_engine_the_targets_own_userland_is_emulated() -> None:
    armv5 = Platform(name="armv5", dockerfile=Path("x"), docker_platform="linux/arm/v5",
                     target="linux/arm/v5", portable=True)  # fmt: skip
    on_s390x = ways.on_engine(armv5, S390X)  # Debian has no armel cross gcc on s390x
    assert on_s390x.docker_platform == "linux/arm/v5" and ways.way(on_s390x, S390X) == "emulated"
    on_riscv = ways.on_engine(SHIPPED["arm64"], RISCV)  # nor any cross gcc on riscv64
    assert on_riscv.docker_platform == ARM64 and ways.way(on_riscv, RISCV) == "emulated"


def test_a_platform_naming_its_image_platform_keeps_it_on_every_engine() -> None:
    fixed = Platform(name="x", dockerfile=Path("x"), docker_platform=AMD64, target=ARM64)
    for engine in PLANS:
        assert ways.on_engine(fixed, engine) == fixed
    assert ways.way(fixed, ARM64) == "emulated"  # as today: an x86-64 image on an arm64 engine


def test_arch_pins_the_image_platform_of_a_portable_platform() -> None:
    pinned = emulation.with_arch(SHIPPED["arm64"], AMD64)
    assert (pinned.docker_platform, pinned.target, pinned.portable) == (AMD64, ARM64, False)
    assert ways.on_engine(pinned, ARM64).docker_platform == AMD64


def test_engine_needs_a_target(tmp_path: Path) -> None:
    with pytest.raises(PlatformDefinitionError, match=r"ci\.target"):
        parse_dockerfile("x", tmp_path / "x", "# ci.docker-platform: engine\nFROM debian:trixie\n")
    parsed = parse_dockerfile("x", tmp_path / "x", "# ci.docker-platform: engine\n# ci.target: linux/s390x\n")
    assert parsed.portable and parsed.docker_platform == parsed.target == S390X


def test_a_run_moves_to_its_engines_architecture_with_its_image(tmp_path: Path) -> None:
    from ci.planning import projectsettings

    arm64 = ways.on_engine(SHIPPED["arm64"], AMD64)
    run = platformrun.PlatformRun(
        platform=arm64,
        engine_url="tcp://arm-node:2376",
        image=runspec.image_ref(arm64, DOCKER),
        build_dir=tmp_path,
        command=("build_generic",),
        project=projectsettings.PlatformProject(build=None, tests=True, test_jobs=None),
    )
    on_arm = platformrun.on_engine(run, ARM64, DOCKER)
    assert on_arm.platform.docker_platform == ARM64 and on_arm.image.tag.endswith("-native")
    assert dataclasses.replace(on_arm, platform=run.platform, image=run.image) == run
    assert platformrun.on_engine(run, AMD64, DOCKER) is run
