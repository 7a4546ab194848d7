"""Every x86 platform from an arm64 engine, against the real engine and QEMU (issue 32): `-p amd64`
and `-p i386` on an engine that reports aarch64 make their images for arm64 with Debian's
x86-64-linux-gnu and i686-linux-gnu cross toolchains for that machine, and the sample's tests pass
through the image's qemu-x86_64 / qemu-i386 commands; `-p amd64 --arch arm64` on this machine is
the same image.

The arm64 engine is this machine's dockerd behind archshim (conftest's arm64_engine): what it
builds for arm64 runs under the host's qemu-user, and the x86 test binaries run on this kernel
itself, where an arm64 node would hand them to its qemu-x86_64 and qemu-i386 handlers. In the lane
after test_native_arm64.py, whose native arm64 image made the first layers these images share
(Debian's build tools and build systems, installed under QEMU); only the cross toolchain layer of
each is new. Its packages (the cross compilers, pkgconf:<target>) are installed here, without
QEMU, as a layer of their own (ci.images.nativepackages); the RUN of cross_toolchain.sh then finds
them installed and skips apt.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import ARM64_USERLAND, Result, elf_identity, run_build_py, summary_rows

pytestmark = [ARM64_USERLAND, pytest.mark.lane, pytest.mark.usefixtures("no_leftovers")]

X86 = ("amd64", "i386")
ELF = {"amd64": (64, "little", 62), "i386": (32, "little", 3)}  # EM_X86_64, EM_386
CROSS = {"amd64": ("x86-64-linux-gnu", "amd64"), "i386": ("i686-linux-gnu", "i386")}  # triplet, Debian
RUNNING = re.compile(r"(\w+): running .* in (ciharness/\w+:[0-9a-f]{16}-cross) \(([^)]+)\)")


def images_and_ways(result: Result) -> dict[str, tuple[str, str]]:
    """Each platform's image and the way it said it ran, from its `running` line."""
    return {name: (image, way) for name, image, way in RUNNING.findall(result.stderr)}


def ctest_counts(build: Path, platform: str) -> tuple[str | None, str | None]:
    suite = ET.parse(build / "junit" / f"ctest-{platform}.xml").getroot()
    return suite.get("tests"), suite.get("failures")


@pytest.fixture(scope="module")
def on_arm64(arm64_engine: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The sample built and tested as amd64 and i386 on the arm64 engine: one run, both images."""
    base = tmp_path_factory.mktemp("x86-on-arm64")
    result = run_build_py(
        "-p", ",".join(X86), "--docker-host", f"amd64={arm64_engine}", "--docker-host",
        f"i386={arm64_engine}", "--build-dir", str(base / "b"), "--ccache-dir", str(base / "ccache"),
        "--progress", "plain", timeout=3600,
    )  # fmt: skip
    return base / "b", result


def test_amd64_and_i386_build_and_pass_their_tests_from_an_arm64_engine(
    on_arm64: tuple[Path, Result], docker_client: docker.DockerClient
) -> None:
    build, result = on_arm64
    assert result.returncode == 0, result.stderr[-5000:]
    found = images_and_ways(result)
    rows = summary_rows(result.stderr)
    for name in X86:
        image, way = found[name]
        assert way == "cross + qemu-user", found
        # An image for the engine's architecture, whose compilers make x86 binaries.
        assert docker_client.images.get(image).attrs["Architecture"] == "arm64"
        assert rows[name][1] == "ok" and rows[name][5] == "12/0", rows[name]
        built = Path(f"{build}.{name}")
        assert ctest_counts(built, name) == ("12", "0")
        assert elf_identity(built / "xsum") == ELF[name]


def test_the_cross_toolchains_packages_are_a_layer_made_here_and_its_run_skips_apt(
    on_arm64: tuple[Path, Result], docker_client: docker.DockerClient
) -> None:
    _, result = on_arm64
    for name, (triplet, debian) in CROSS.items():
        image, _ = images_and_ways(result)[name]
        steps = [str(h.get("CreatedBy", "")) for h in docker_client.images.get(image).history()]
        # newest first: the RUN of cross_toolchain.sh, the image's ldconfig (and dpkg --configure -a)
        # over the layer made here (ADD), then the COPY of the script (not the RUN of apt under QEMU)
        run = next(i for i, step in enumerate(steps) if f"cross_toolchain.sh {name}" in step)
        below = next(i for i in range(run + 1, len(steps)) if "ADD file:" in steps[i] or "COPY " in steps[i])
        assert "ADD file:" in steps[below], steps
        assert any("ldconfig" in step for step in steps[run + 1 : below]), steps
        if f"building image {image} " not in result.stderr:
            continue  # made before this run: its build said nothing here
        packages = f"gcc-{triplet} g++-{triplet} pkgconf:{debian}"
        made = (
            f"installing {packages} for linux/arm64 here, without emulation (with the {debian} architecture)"
        )
        assert made in result.stderr, result.stderr[-5000:]
        assert f"debian_packages.sh: {packages} already installed; no apt-get" in result.stderr, (
            result.stderr[-5000:]
        )


def test_the_cross_images_emulator_command_says_how_x86_binaries_run(
    on_arm64: tuple[Path, Result], docker_client: docker.DockerClient
) -> None:
    # The check that made the image build fail (exit 71): the target's loader run with no program.
    _, result = on_arm64
    for name, qemu in (("amd64", "qemu-x86_64"), ("i386", "qemu-i386")):
        image, _ = images_and_ways(result)[name]
        said = docker_client.containers.run(image, [qemu, "-version"], remove=True).decode()
        # On an arm64 node the host's QEMU prints its version; here this kernel runs them itself.
        assert "run natively" in said or "version" in said, said
        assert "missing program name" not in said


def test_amd64_with_arch_arm64_on_this_machine_is_the_same_image(
    on_arm64: tuple[Path, Result], tmp_path: Path
) -> None:
    build, shim = on_arm64
    # The shim run's ccache: the same image's compilers, so its objects are hits (they run under
    # QEMU here; compiling them again would only cost time).
    result = run_build_py(
        "-p", "amd64", "--arch", "arm64", "--build-dir", str(tmp_path / "b"),
        "--ccache-dir", str(build.parent / "ccache"), timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    image, _ = images_and_ways(result)["amd64"]
    assert image == images_and_ways(shim)["amd64"][0]
    assert ctest_counts(tmp_path / "b", "amd64") == ("12", "0")
    assert elf_identity(tmp_path / "b" / "xsum") == ELF["amd64"]
