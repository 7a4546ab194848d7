"""The project file against the real engine, QEMU and the Debian archive: projects written here that
need zlib of the target (CMake through find_package and pkg_check_modules, Meson and autotools
through pkg-config) and a tool of the build machine, built with nothing but --source and their
ciharness.toml on amd64, armv7, arm64 and s390x (whose table builds zlib in pre-build: see
S390X_TABLE); a per-platform table; a rerun that builds no image; and bad project files, each one
line with its own code and no container left."""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path

import psutil
import pytest

import docker
from tests.integration.helpers import Result, elf_identity, leftovers, run_build_py
from tests.integration.projects import write
from tests.integration.test_build_systems import counts, junit_suite, outputs

pytestmark = pytest.mark.xdist_group("project-file")

# One set of needs for every project here, so each platform makes one project image and all share it.
NEEDS = """\
packages = ["zlib1g-dev"]
build-packages = ["bc"]
pre-build = ["echo \\"$CI_TARGET_DEBIAN_ARCH $CI_TARGET_TRIPLET\\" > /etc/ciharness-target"]
"""

ROUNDTRIP_C = r"""
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    const char text[] = "the target's zlib, the target's zlib, the target's zlib";
    unsigned char packed[256], unpacked[256];
    uLongf packed_size = sizeof packed, unpacked_size = sizeof unpacked;
    if (compress(packed, &packed_size, (const Bytef *)text, sizeof text) != Z_OK) return 1;
    if (uncompress(unpacked, &unpacked_size, packed, packed_size) != Z_OK) return 2;
    if (unpacked_size != sizeof text || memcmp(unpacked, text, sizeof text) != 0) return 3;
    printf("zlib %s: %lu -> %lu bytes and back\n", zlibVersion(), (unsigned long)sizeof text,
           (unsigned long)packed_size);
    return 0;
}
"""

# The archive this machine reaches serves no s390x libc6 (404), so no s390x library package
# installs here: s390x's table says so the way a project would, building zlib for the target from
# Debian's source in pre-build, where the package would have put it.
S390X_TABLE = """
[platform.s390x]
packages = []
pre-build = [\"\"\"
set -eu
sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/deb-src.list
apt-get -q update
cd "$(mktemp -d)"
apt-get -q source --download-only zlib || true
mkdir src && tar xf zlib_*.orig.tar.* -C src --strip-components=1 && cd src
CHOST=$CI_TARGET_TRIPLET ./configure --prefix=/usr --libdir=/usr/lib/$CI_TARGET_TRIPLET \\
    --includedir=/usr/include/$CI_TARGET_TRIPLET
make -j"$(nproc)" install
rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/deb-src.list
\"\"\", "echo \\"$CI_TARGET_DEBIAN_ARCH $CI_TARGET_TRIPLET\\" > /etc/ciharness-target"]
"""

CMAKE_PROJECT = {
    "CMakeLists.txt": """\
cmake_minimum_required(VERSION 3.16)
project(zround C)
option(EXTRA "one more test" OFF)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZPC REQUIRED IMPORTED_TARGET zlib)
add_executable(roundtrip roundtrip.c)
target_link_libraries(roundtrip ZLIB::ZLIB)
add_executable(roundtrip_pc roundtrip.c)
target_link_libraries(roundtrip_pc PkgConfig::ZPC)
enable_testing()
add_test(NAME roundtrip COMMAND roundtrip)
add_test(NAME roundtrip_pc COMMAND roundtrip_pc)
add_test(NAME tools COMMAND sh -c
  "printf AB | xxd -p | grep -qx 4142 && echo '6*7' | bc | grep -qx 42 && cat /etc/ciharness-target")
if(EXTRA)
  add_test(NAME extra COMMAND roundtrip)
endif()
""",
    "roundtrip.c": ROUNDTRIP_C,
    "ciharness.toml": 'platforms = ["amd64", "armv7", "arm64", "s390x"]\n'
    + NEEDS
    + '\n[platform.arm64]\nconfigure-args = ["-DEXTRA=ON"]\ntest-args = ["--exclude-regex", "^tools$"]\n'
    + S390X_TABLE,
}

MESON_PROJECT = {
    "meson.build": "project('zm', 'c')\n"
    "z = dependency('zlib')\n"
    "test('roundtrip', executable('roundtrip', 'roundtrip.c', dependencies: z))\n",
    "roundtrip.c": ROUNDTRIP_C,
    "ciharness.toml": NEEDS,
}

AUTOTOOLS_PROJECT = {  # as in git: no configure script
    "configure.ac": "AC_INIT([za], [1.0])\nAM_INIT_AUTOMAKE([foreign])\nAC_PROG_CC\n"
    "PKG_CHECK_MODULES([ZLIB], [zlib])\nAC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n",
    "Makefile.am": "check_PROGRAMS = roundtrip\nroundtrip_CFLAGS = $(ZLIB_CFLAGS)\n"
    "roundtrip_LDADD = $(ZLIB_LIBS)\nTESTS = roundtrip\n",
    "roundtrip.c": ROUNDTRIP_C,
    "ciharness.toml": NEEDS,
}

ARM, AARCH64, S390 = 40, 183, 22  # ELF e_machine


def build(src: Path, work: Path, *args: str) -> Result:
    """build.py with nothing but the source tree (and dirs of the test's own)."""
    return run_build_py(
        "--source", str(src), "--build-dir", str(work / "build"), "--ccache-dir", str(work / "ccache"),
        "--progress", "plain", *args, timeout=1800,
    )  # fmt: skip


def needed_libraries(binary: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


@pytest.fixture(scope="module")
def cmake_run(
    tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient
) -> tuple[Path, Result]:
    """The zlib project's first run, its project images made by it (an earlier session's are
    removed first: on a machine that keeps its images, the first run would otherwise find them;
    not those other tests of this session made, which they may be using)."""
    work = tmp_path_factory.mktemp("zlib-cmake")
    src = write(work / "src", CMAKE_PROJECT)
    session_start = psutil.Process().create_time()  # this pytest worker's
    # the engine's listing as it is (no fetch per image: another test may remove one meanwhile)
    for image in docker_client.api.images(filters={"label": "io.ciharness.project-hash"}):
        for tag in image.get("RepoTags") or [] if image["Created"] < session_start else []:
            with contextlib.suppress(docker.errors.ImageNotFound):  # gone with an image removed before
                docker_client.images.remove(tag, noprune=False)
    return work, build(src, work)


def test_a_cmake_project_needing_zlib_passes_on_four_architectures(cmake_run: tuple[Path, Result]) -> None:
    work, result = cmake_run
    assert result.returncode == 0, result.stderr[-4000:]
    names = {"roundtrip", "roundtrip_pc", "tools"}
    # arm64's table adds a test (configure-args) and leaves one out (test-args): that platform only.
    arm64 = names - {"tools"} | {"extra"}
    for platform, tests in (("amd64", names), ("armv7", names), ("arm64", arm64), ("s390x", names)):
        suite = junit_suite(work / f"build.{platform}", "ctest", platform)
        assert counts(suite) == (3, 0, 0), platform
        assert {c.get("name") for c in suite.iter("testcase")} == tests, platform
    # The target's libz: ARM and s390x binaries that need libz.so.1, and ran (under QEMU).
    for platform, machine in (("armv7", ARM), ("arm64", AARCH64), ("s390x", S390)):
        for binary in ("roundtrip", "roundtrip_pc"):
            path = work / f"build.{platform}" / binary
            assert elf_identity(path)[2] == machine
            assert "libz.so.1" in needed_libraries(path)
    out = outputs(junit_suite(work / "build.armv7", "ctest", "armv7"))
    assert "armhf arm-linux-gnueabihf" in out  # the pre-build command saw the target
    assert re.search(r"zlib 1\.\d+\.\d+", out)
    s390x = outputs(junit_suite(work / "build.s390x", "ctest", "s390x"))
    assert "s390x s390x-linux-gnu" in s390x and re.search(r"zlib 1\.\d+\.\d+", s390x)


def test_an_unchanged_rerun_builds_no_image(cmake_run: tuple[Path, Result]) -> None:
    work, first = cmake_run
    assert first.returncode == 0
    assert first.stderr.count("building the project's image") >= 1
    again = build(work / "src", work)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "building the project's image" not in again.stderr
    assert "building image" not in again.stderr
    # -b and --print-docker-run name the project's image, as a run uses it.
    image = build(work / "src", work, "-p", "armv7", "-b")
    assert image.returncode == 0 and re.fullmatch(
        r"ciharness/armv7:[0-9a-f]{16}-cross-project-[0-9a-f]{12}\n", image.stdout
    )
    line = build(work / "src", work, "-p", "armv7", "--print-docker-run", "--", "true")
    assert line.returncode == 0 and image.stdout.strip() in line.stdout.split()


@pytest.mark.parametrize("files", [MESON_PROJECT, AUTOTOOLS_PROJECT], ids=["meson", "autotools"])
def test_meson_and_autotools_find_the_targets_zlib_through_pkg_config(
    tmp_path: Path, cmake_run: tuple[Path, Result], files: dict[str, str]
) -> None:
    assert cmake_run[1].returncode == 0  # its armv7 project image, which these share
    src = write(tmp_path / "src", files)
    result = build(src, tmp_path, "-p", "armv7")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "building the project's image" not in result.stderr  # the same needs: the same image
    tool = "meson" if "meson.build" in files else "automake"
    assert counts(junit_suite(tmp_path / "build", tool, "armv7")) == (1, 0, 0)
    (binary,) = [p for p in (tmp_path / "build").rglob("roundtrip") if p.is_file()]
    assert elf_identity(binary)[2] == ARM and "libz.so.1" in needed_libraries(binary)


# -- bad project files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "said"),
    [
        ('packages = ["zlib1g-dev"\n', 88, r"ciharness.toml:\d+: not valid TOML"),
        (
            'packages = []\npakages = ["zlib1g-dev"]\n',
            89,
            r"ciharness.toml:2: unknown key 'pakages'.*did you mean 'packages'",
        ),
        ('tests = "no"\n', 90, r"ciharness.toml:1: tests must be true or false"),
    ],
    ids=["not-toml", "unknown-key", "wrong-type"],
)
def test_a_bad_file_is_one_line_with_its_code_before_anything(
    tmp_path: Path, docker_client: docker.DockerClient, text: str, code: int, said: str
) -> None:
    src = write(tmp_path / "src", {"CMakeLists.txt": "project(p C)\n", "ciharness.toml": text})
    result = build(src, tmp_path, "-p", "amd64")
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("build.py:")]
    assert len(errors) == 1 and re.search(said, errors[0]), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "build").exists()
    assert leftovers(docker_client) == []


def test_a_package_missing_for_the_targets_architecture_is_named_and_nothing_is_tagged(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    # libc6-dev-i386 is a package of amd64 only: there is none for armhf.
    toml = 'packages = ["zlib1g-dev", "libc6-dev-i386", "zlib1g-devv"]\n'  # and one misspelt
    src = write(tmp_path / "src", {"CMakeLists.txt": "project(p C)\n", "ciharness.toml": toml})
    result = build(src, tmp_path, "-p", "armv7")
    assert result.returncode == 91, result.stderr[-3000:]
    line = [x for x in result.stderr.splitlines() if "no Debian package" in x]
    assert line and "armv7" in line[0] and "armhf" in line[0]
    assert (
        "libc6-dev-i386:armhf" in line[0] and "zlib1g-devv:armhf" in line[0] and "zlib1g-dev:" not in line[0]
    )
    # No image of this project's packages (the misspelt one is this test's alone: other tests
    # make project images of their own meanwhile)
    labels = [i.labels.get("io.ciharness.project-packages", "") for i in docker_client.images.list()]
    assert not [packages for packages in labels if "zlib1g-devv" in packages]
    assert leftovers(docker_client) == []


def test_a_failing_pre_build_command_says_which_and_its_output_is_in_the_log(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    toml = 'pre-build = ["echo about to fail on $CI_TARGET_DEBIAN_ARCH", "exit 3"]\n'
    src = write(tmp_path / "src", {"CMakeLists.txt": "project(p C)\n", "ciharness.toml": toml})
    result = build(src, tmp_path, "-p", "amd64")
    assert result.returncode == 92, result.stderr[-3000:]
    assert re.search(r"pre-build command 2 \('exit 3'\) failed with status 3", result.stderr)
    assert "about to fail on amd64" in (tmp_path / "build" / "build.log").read_text()
    assert leftovers(docker_client) == []
