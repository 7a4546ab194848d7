"""The shipped cross platforms: each cross Dockerfile names an architecture of docker/arches, and
the toolchain file and Meson cross file docker/install/cross_toolchain.sh writes for it have the
right compilers, processor and emulator, an emulator the same script installs (a missing one
makes ctest mark every test Not Run, and Meson skip every test). The same script on a build
machine of the target's own architecture makes a native image, and refuses one Debian has no
cross toolchain on. Runs the script's text generation and plans with bash; the integration tier
builds the images."""

from __future__ import annotations

import configparser
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
CROSS = [p for p in discover(DOCKER).values() if p.portable or p.target != p.docker_platform]
PKG_DOC = '"the target\'s pkg-config"'
SET_RE = re.compile(r"^\s*set\((\S+)\s+(.+?)\)$", re.M)  # set(NAME VALUE...), also in an if()

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
    assert all(v and v != arches.NONE for k, v in row.items() if k not in ("aliases", "qemu_cpu")), row
    text = platform.dockerfile.read_text(encoding="utf-8")
    copied = copied_sources(text)
    assert {
        "arches",
        "install/cross_toolchain.sh",
        "install/target_runtime.sh",
        "install/qemu-user",
        "install/emulator_commands.sh",
    } <= set(copied)
    env = [line for line in logical_lines(text) if line.upper().startswith("ENV ")]
    # No QEMU_LD_PREFIX: target binaries find their loader and libraries with no environment.
    assert env == ["ENV CMAKE_TOOLCHAIN_FILE=/opt/ci/toolchain.cmake"]


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
        # The cross libc, and under / the target's multiarch dirs (Debian's <pkg>:<debian>).
        "CMAKE_FIND_ROOT_PATH": f"/usr/{arch.triplet} /",
        "CMAKE_FIND_ROOT_PATH_MODE_PROGRAM": "NEVER",
        "CMAKE_FIND_ROOT_PATH_MODE_LIBRARY": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_INCLUDE": "ONLY",
        "CMAKE_FIND_ROOT_PATH_MODE_PACKAGE": "ONLY",
        # pkg_check_modules: the target's pkg-config over the dirs of the Meson cross file.
        "PKG_CONFIG_EXECUTABLE": f"/usr/bin/{arch.triplet}-pkg-config CACHE FILEPATH {PKG_DOC}",
        "ENV{PKG_CONFIG_LIBDIR}": f"/usr/lib/{multiarch(arch.triplet)}/pkgconfig:/usr/share/pkgconfig",
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
    arch = arches.by_name(args[0])
    assert arch is not None
    # A build machine Debian cross-compiles it on: amd64 where it can be, as the images are today.
    build = "amd64" if "amd64" in arch.cross_from else arch.cross_from[0]
    result = script("--dry-run", *args, env=plan_env(build, tmp_path / "t"))
    assert result.returncode == 0, result.stderr
    actions = [line.split() for line in result.stdout.splitlines()]
    got = toolchain(args[0])
    # Debian's cross compiler packages: gcc-<triplet> with '-' for '_' (gcc-x86-64-linux-gnu).
    compilers = [c.replace("_", "-") for c in (got["CMAKE_C_COMPILER"], got["CMAKE_CXX_COMPILER"])]
    assert actions.index(["dpkg", "--add-architecture", arch.debian]) < actions.index(
        next(a for a in actions if a[0].endswith("/debian_packages.sh"))
    )
    (packages,) = [a[1:] for a in actions if a[0].endswith("/debian_packages.sh")]
    assert packages == [c.rsplit("-", 1)[1] + "-" + c.rsplit("-", 1)[0] for c in compilers] + [
        f"pkgconf:{arch.debian}",
        *args[1:],
    ]
    assert ["write", str(tmp_path / "t")] in actions
    assert ["write", "/opt/ci/meson-cross.ini"] in actions and ["write", "/opt/ci/cross.env"] in actions
    (runtime,) = [a[1:] for a in actions if a[0].endswith("/target_runtime.sh")]
    assert runtime == [arch.triplet, multiarch(arch.triplet)]
    assert ["ln", "-sfn", f"/usr/{arch.triplet}", "/opt/ci/sysroot"] in actions
    (emulators,) = [a[1:] for a in actions if a[0].endswith("/emulator_commands.sh")]
    assert [f"/usr/local/bin/qemu-{e}" for e in emulators] == [got["CMAKE_CROSSCOMPILING_EMULATOR"]]


def plan_env(build: str, toolchain_file: Path) -> dict[str, str]:
    """The environment of a --dry-run (or a native run) for a build machine of Debian arch build."""
    return {"PATH": "/usr/bin:/bin", "CI_BUILD_DEBIAN": build, "CMAKE_TOOLCHAIN_FILE": str(toolchain_file)}


def plan(arch: str, build: str, tmp_path: Path, *packages: str) -> list[str]:
    result = script("--dry-run", arch, *packages, env=plan_env(build, tmp_path / "t"))
    assert result.returncode == 0, result.stderr
    return result.stdout.replace(str(SCRIPT.parent), "HERE").splitlines()


def test_on_the_targets_own_architecture_the_image_is_native(tmp_path: Path) -> None:
    assert plan("arm64", "arm64", tmp_path, "zlib1g-dev") == [
        "cross_toolchain.sh: arm64 on this arm64 build machine: native build, no cross toolchain",
        "HERE/debian_packages.sh zlib1g-dev",  # natively: zlib1g-dev, not zlib1g-dev:arm64
        f"write {tmp_path / 't'}",  # no cross.env, Meson cross file, sysroot, runtime, emulator
    ]
    assert plan("amd64", "amd64", tmp_path)[1:] == [f"write {tmp_path / 't'}"]  # nothing to install


def test_the_native_toolchain_file_sets_nothing(tmp_path: Path) -> None:
    result = script("amd64", env=plan_env("amd64", tmp_path / "cmake" / "t.cmake"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "cmake" / "t.cmake").read_text(encoding="utf-8")
    assert "native" in text and "amd64" in text
    assert all(line.startswith("#") for line in text.splitlines()), text
    assert [p.name for p in tmp_path.rglob("*")] == ["cmake", "t.cmake"]


def test_from_arm64_amd64_is_cross_compiled(tmp_path: Path) -> None:
    assert plan("amd64", "arm64", tmp_path) == [
        "dpkg --add-architecture amd64",
        "HERE/debian_packages.sh gcc-x86-64-linux-gnu g++-x86-64-linux-gnu pkgconf:amd64",
        f"write {tmp_path / 't'}",
        "write /opt/ci/meson-cross.ini",
        "write /opt/ci/cross.env",
        "ln -sfn /usr/x86_64-linux-gnu /opt/ci/sysroot",
        "HERE/target_runtime.sh x86_64-linux-gnu x86_64-linux-gnu",
        "HERE/emulator_commands.sh x86_64",
    ]


def test_from_amd64_arm64_is_cross_compiled_as_before(tmp_path: Path) -> None:
    assert plan("arm64", "amd64", tmp_path, "zlib1g-dev:arm64") == [
        "dpkg --add-architecture arm64",
        "HERE/debian_packages.sh gcc-aarch64-linux-gnu g++-aarch64-linux-gnu pkgconf:arm64 zlib1g-dev:arm64",
        f"write {tmp_path / 't'}",
        "write /opt/ci/meson-cross.ini",
        "write /opt/ci/cross.env",
        "ln -sfn /usr/aarch64-linux-gnu /opt/ci/sysroot",
        "HERE/target_runtime.sh aarch64-linux-gnu aarch64-linux-gnu",
        "HERE/emulator_commands.sh aarch64",
    ]


@pytest.mark.parametrize(
    ("arch", "build", "message"),
    [
        ("arm64", "riscv64", "Debian has no cross toolchain for arm64 on riscv64 (it has one on amd64, i386, "
         "ppc64el, s390x); build this platform on one of those, or declare its image platform "
         "(# ci.docker-platform: linux/arm64) to build it in an emulated arm64 userland"),
        ("armv5", "s390x", "Debian has no cross toolchain for armv5 on s390x (it has one on amd64, arm64, "),
        ("arm64", "armhf", "Debian has no cross toolchain for arm64 on armhf ("),
        ("armv6", "amd64", "Debian has no cross toolchain for armv6 on amd64, nor on any other architecture"),
    ],
)  # fmt: skip
def test_where_debian_has_no_cross_toolchain_it_says_where_it_has(
    arch: str, build: str, message: str, tmp_path: Path
) -> None:
    result = script("--dry-run", arch, env=plan_env(build, tmp_path / "t"))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and f"cross_toolchain.sh: {message}" in result.stderr


def test_printing_modes_print_the_cross_files_on_any_build_machine(tmp_path: Path) -> None:
    for mode in ("--cmake", "--meson", "--env"):
        native = script(mode, "arm64", env=plan_env("arm64", tmp_path / "t"))
        assert native.returncode == 0 and native.stdout == script(mode, "arm64").stdout != ""
        assert "aarch64-linux-gnu" in native.stdout


def multiarch(triplet: str) -> str:
    """Debian's multiarch tuple: the triplet, but i386-linux-gnu for Debian's i386 port."""
    return "i386-linux-gnu" if triplet == "i686-linux-gnu" else triplet


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_generated_meson_cross_file_has_the_compilers_machine_and_emulator(platform: Platform) -> None:
    arch = arches.by_name(cross_run(platform.dockerfile)[0])
    assert arch is not None
    result = script("--meson", arch.arch)
    assert result.returncode == 0, result.stderr
    ini = configparser.ConfigParser()
    ini.read_string(result.stdout)
    got = {section: dict(ini[section]) for section in ini.sections()}
    assert got == {
        "binaries": {
            "c": f"['ccache', '{arch.triplet}-gcc']",
            "cpp": f"['ccache', '{arch.triplet}-g++']",
            "ar": f"'{arch.triplet}-ar'",
            "strip": f"'{arch.triplet}-strip'",
            "pkg-config": f"'{arch.triplet}-pkg-config'",
            "exe_wrapper": toolchain(arch.arch)["CMAKE_CROSSCOMPILING_EMULATOR"].join("''"),
        },
        "host_machine": {
            "system": "'linux'",
            "cpu_family": f"'{arch.meson_family}'",
            "cpu": f"'{arch.meson_cpu}'",
            "endian": f"'{arch.endian}'",
        },
        "properties": {
            "needs_exe_wrapper": "true",
            "pkg_config_libdir": f"['/usr/lib/{multiarch(arch.triplet)}/pkgconfig', '/usr/share/pkgconfig']",
        },
    }


@pytest.mark.parametrize("platform", CROSS, ids=lambda p: p.name)
def test_cross_env_names_the_target_for_the_build_step(platform: Platform) -> None:
    arch = arches.by_name(cross_run(platform.dockerfile)[0])
    assert arch is not None
    result = script("--env", arch.arch)
    assert result.returncode == 0, result.stderr
    pairs = dict(line.split("=", 1) for line in result.stdout.splitlines() if not line.startswith("#"))
    assert pairs == {
        "CI_CROSS_ARCH": arch.arch,
        "CI_CROSS_TRIPLET": arch.triplet,
        "CI_CROSS_MULTIARCH": multiarch(arch.triplet),
        "CI_CROSS_DEBIAN": arch.debian,
        "CI_CROSS_EMULATOR": f"/usr/local/bin/qemu-{arch.qemu}",
        "CI_MESON_CROSS_FILE": "/opt/ci/meson-cross.ini",
        "CROSS_COMPILE": f"{arch.triplet}-",
    }


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
