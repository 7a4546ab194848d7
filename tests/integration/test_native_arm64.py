"""The native way against the real engine (issue 24): on an arm64 engine the arm64 platform's
image is made for arm64 and compiles with Debian's own aarch64 gcc, with no cross toolchain and
no qemu-x86_64, and its tests give what the cross way gives on the local x86-64 engine.

The arm64 engine is this machine's dockerd behind archshim (conftest's arm64_engine): its
`docker info` says aarch64, and what it builds and runs for arm64 runs under the host's
qemu-user where arm64 hardware would run it. One build of the native image serves the module;
in the xdist group of test.arm64's image, it takes that image's first layers (Debian trixie for
arm64 and its build tools, installed under QEMU) from the build cache.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import ARM64_USERLAND, Result, elf_identity, run_build_py
from tests.integration.projects import MESON, write

# In the lane (scripts/test.sh), after test.arm64's image, whose first layers it reuses.
pytestmark = [ARM64_USERLAND, pytest.mark.lane, pytest.mark.usefixtures("no_leftovers")]

AARCH64 = (64, "little", 183)  # ELF class, byte order, e_machine EM_AARCH64
X86_64 = (64, "little", 62)  # EM_X86_64
# The run's line: `arm64: running <command> in <image> (<way>)`.
RUNNING = re.compile(r"arm64: running .* in (ciharness/arm64:[0-9a-f]{16}-(native|cross)) \(([^)]+)\)")

# What a build container is made of, one key=value a line; the compilers' ELF headers are copied
# into the build dir, which comes back from a remote engine with the run.
PROBE = r"""
echo "uname=$(uname -m)"
echo "dumpmachine=$(gcc -dumpmachine)"
mkdir -p /work/build/elf
head -c 64 "$(readlink -f "$(command -v gcc)")" >/work/build/elf/gcc
head -c 64 "$(gcc -print-prog-name=cc1)" >/work/build/elf/cc1
echo "cc1=$(file -bL "$(gcc -print-prog-name=cc1)")"
echo "cross_env=$(test -e /opt/ci/cross.env && echo yes || echo no)"
echo "qemu_commands=$(ls /usr/local/bin | grep '^qemu-' | xargs)"
"""


@dataclass(frozen=True)
class Run:
    build: Path
    result: Result

    def image_kind_way(self) -> tuple[str, str, str]:
        """The image the run used, its kind (native or cross) and the way it said it ran."""
        found = RUNNING.search(self.result.stderr)
        assert found, self.result.stderr[-3000:]
        image, kind, way = found.groups()
        return image, kind, way


def on_arm64_engine(url: str, build: Path, *args: str) -> Result:
    """build.py -p arm64 with the platform mapped to the arm64 engine at url."""
    return run_build_py(
        "-p", "arm64", "--docker-host", f"arm64={url}", "--build-dir", str(build), *args, timeout=3600
    )  # fmt: skip


def probe(build: Path, *engine: str) -> dict[str, str]:
    """PROBE's answers in -p arm64's build container (on the engine given, else the local one)."""
    result = run_build_py("-p", "arm64", *engine, "--build-dir", str(build), "--", "bash", "-c", PROBE)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def results(build: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Each test of ctest's JUnit file: (class, name) -> (status, failure or skip, its output)."""
    suite = ET.parse(build / "junit" / "ctest-arm64.xml").getroot()
    return {
        (case.get("classname", ""), case.get("name", "")): (
            case.get("status", ""),
            " ".join(child.tag for child in case if child.tag in ("failure", "error", "skipped")),
            "".join(out.text or "" for out in case.iter("system-out")),
        )
        for case in suite.iter("testcase")
    }


@pytest.fixture(scope="module")
def native_image(arm64_engine: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The arm64 platform's image made on the arm64 engine: once for the module."""
    made = on_arm64_engine(arm64_engine, tmp_path_factory.mktemp("image") / "b", "-b")
    assert made.returncode == 0, made.stderr[-4000:]
    return made.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def native(arm64_engine: str, native_image: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The sample project (xsum) built and tested on the arm64 engine."""
    build = tmp_path_factory.mktemp("native") / "b"
    return Run(build, on_arm64_engine(arm64_engine, build))


@pytest.fixture(scope="module")
def cross(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same on the local (x86-64) engine: cross-compiled, its tests under qemu-user."""
    base = tmp_path_factory.mktemp("cross")
    ccache = ["--ccache-dir", str(base / "ccache")]
    return Run(base / "b", run_build_py("-p", "arm64", "--build-dir", str(base / "b"), *ccache, timeout=3600))


def test_the_shim_shows_this_machines_engine_as_arm64(arm64_engine: str) -> None:
    def docker_cli(*argv: str) -> str:
        argv = ("docker", "-H", arm64_engine, *argv)
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    assert docker_cli("info", "--format", "{{.Architecture}}") == "aarch64"
    assert docker_cli("version", "--format", "{{.Server.Arch}}") == "arm64"


def test_arm64_builds_and_passes_natively_on_an_arm64_engine(
    native: Run, native_image: str, arm64_engine: str, docker_client: docker.DockerClient
) -> None:
    assert native.result.returncode == 0, native.result.stderr[-4000:]
    image, kind, way = native.image_kind_way()
    assert (image, kind, way) == (native_image, "native", "native")
    assert docker_client.images.get(image).attrs["Architecture"] == "arm64"
    suite = ET.parse(native.build / "junit" / "ctest-arm64.xml").getroot()  # copied back
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 12
    assert elf_identity(native.build / "xsum") == AARCH64
    # The shim passes a plain `docker run` (attach, start, wait) through as it is.
    ran = subprocess.run(
        ["docker", "-H", arm64_engine, "run", "--rm", image, "uname", "-m"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (ran.returncode, ran.stdout.strip()) == (0, "aarch64"), ran.stderr


def test_the_native_build_container_has_the_targets_own_compilers_and_no_qemu(
    native_image: str, arm64_engine: str, tmp_path: Path
) -> None:
    found = probe(tmp_path / "b", "--docker-host", f"arm64={arm64_engine}")
    assert found["uname"] == "aarch64" and found["dumpmachine"] == "aarch64-linux-gnu", found
    assert elf_identity(tmp_path / "b" / "elf" / "gcc") == AARCH64
    assert elf_identity(tmp_path / "b" / "elf" / "cc1") == AARCH64, found["cc1"]
    assert "ARM aarch64" in found["cc1"]
    assert (found["cross_env"], found["qemu_commands"]) == ("no", ""), found


def test_native_results_are_those_of_the_cross_way_on_the_local_engine(
    native: Run, cross: Run, tmp_path: Path
) -> None:
    assert cross.result.returncode == 0, cross.result.stderr[-4000:]
    _, kind, way = cross.image_kind_way()
    assert (kind, way) == ("cross", "cross + qemu-user")
    native_results = results(native.build)
    assert len(native_results) >= 12
    assert all(status == "run" and not bad for status, bad, _ in native_results.values()), native_results
    assert native_results == results(cross.build)
    # The probe tells the two apart: the cross image compiles with x86-64 programs for the
    # target, whose tests run through its qemu-aarch64 command.
    found = probe(tmp_path / "b")
    assert (found["uname"], found["cross_env"]) == ("x86_64", "yes"), found
    assert "qemu-aarch64" in found["qemu_commands"].split(), found
    assert elf_identity(tmp_path / "b" / "elf" / "cc1") == X86_64


def test_a_meson_project_builds_and_passes_natively(
    native_image: str, arm64_engine: str, tmp_path: Path
) -> None:
    src = write(tmp_path / "src", MESON)
    build = tmp_path / "b"
    result = on_arm64_engine(arm64_engine, build, "--source", str(src))
    assert result.returncode == 0, result.stderr[-4000:]
    assert re.search(r"arm64: running .* \(native\) \(build system meson, from meson\.build\)", result.stderr)
    suite = ET.parse(build / "junit" / "meson-arm64.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("3", "0")
    shown = "".join(out.text or "" for out in suite.iter("system-out"))
    assert "runs as little-endian, built for little-endian" in shown
    assert elf_identity(build / "order-check") == AARCH64
