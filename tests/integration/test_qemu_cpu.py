"""arm64 code under QEMU with QEMU_CPU=max,pauth-impdef=on (docker/arches' qemu_cpu): the same
`max` CPU, its pointer authentication (which Debian's arm64 code uses in every function) by
QEMU's fast implementation-defined algorithm instead of QARMA5. Told to the tests of the arm64
cross image, to the arm64 userland's runs and to its image's RUN steps (a build argument: the
image keeps no trace of it); never to another architecture's QEMU, which would refuse it.

In the lane (scripts/test.sh), after test.arm64's image: its arm64 base is made by then."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import ARM64_USERLAND, run_build_py, tiny_platforms

pytestmark = [ARM64_USERLAND, pytest.mark.lane, pytest.mark.usefixtures("no_leftovers")]

FAST = "max,pauth-impdef=on"
# An aarch64 program that signs and authenticates its return address (PACIASP/AUTIASP, as
# Debian's -mbranch-protection=standard code does) and says what its QEMU was told.
PROBE = r"""
set -e
printf 'int main(void) { return 0; }\n' > /tmp/p.c
"$1" $2 -O1 -o /tmp/p /tmp/p.c
/tmp/p && echo "ran=$(file -b /tmp/p | cut -d, -f2 | xargs)"
echo "cpu=${QEMU_CPU:-unset}"
"""


def probe(platform: str, compiler: str, *extra: str) -> dict[str, str]:
    flags = "" if platform == "armv7" else "-mbranch-protection=standard"
    result = run_build_py(
        "-p", platform, *extra, "--", "bash", "-c", PROBE, "probe", compiler, flags, timeout=1800
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def test_arm64_code_runs_under_the_cpu_the_table_names(tmp_path: Path) -> None:
    assert probe("arm64", "aarch64-linux-gnu-gcc", "--build-dir", str(tmp_path / "cross")) == {
        "ran": "ARM aarch64",
        "cpu": FAST,
    }
    assert probe("test.arm64", "gcc", "--build-dir", str(tmp_path / "userland")) == {
        "ran": "ARM aarch64",
        "cpu": FAST,
    }
    # Another architecture's QEMU is never told it: qemu-arm would refuse the property.
    assert probe("armv7", "arm-linux-gnueabihf-gcc", "--build-dir", str(tmp_path / "armv7")) == {
        "ran": "ARM",
        "cpu": "unset",
    }


def test_an_e_flag_decides_the_cpu(tmp_path: Path) -> None:
    told = probe(
        "arm64", "aarch64-linux-gnu-gcc", "--build-dir", str(tmp_path / "b"), "-e", "QEMU_CPU=cortex-a72"
    )
    assert told == {"ran": "ARM aarch64", "cpu": "cortex-a72"}


def test_an_emulated_images_steps_are_told_and_the_image_keeps_nothing(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    step = f'RUN echo "step-cpu=[$QEMU_CPU] $(uname -m) {uuid.uuid4().hex}"\n'  # new: not cached
    text = f"# ci.docker-platform: linux/arm64\nFROM debian:trixie\n{step}"
    docker_dir = tiny_platforms(tmp_path, {"a64cpu": text})
    built = run_build_py("--docker-dir", str(docker_dir), "-p", "a64cpu", "-b", timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    assert f"step-cpu=[{FAST}] aarch64" in built.stdout + built.stderr
    image = docker_client.images.get(built.stdout.strip().splitlines()[-1])
    try:
        assert not [e for e in image.attrs["Config"]["Env"] or [] if e.startswith("QEMU_CPU")]
    finally:
        docker_client.images.remove(str(image.id), force=True)


def test_a_projects_image_on_the_arm64_userland_is_built_told_too(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """The project's own image (its pre-build commands, its packages) over test.arm64's: the same
    build argument, and again no trace of it in the image."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text("project(p C)\n")
    toml = f'pre-build = ["echo project-cpu=[$QEMU_CPU] $(uname -m) {uuid.uuid4().hex}"]\n'  # new: not cached
    (src / "ciharness.toml").write_text(toml)
    build = tmp_path / "build"
    ran = run_build_py("-p", "test.arm64", "--source", str(src), "--build-dir", str(build), "--", "true")
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert f"project-cpu=[{FAST}] aarch64" in (build / "build.log").read_text()
    made = re.search(r"running true in (ciharness/test\.arm64:\S+-project-\S+)", ran.stderr)
    assert made, ran.stderr[-3000:]
    image = docker_client.images.get(made[1])
    try:
        assert not [e for e in image.attrs["Config"]["Env"] or [] if e.startswith("QEMU_CPU")]
    finally:
        docker_client.images.remove(made[1])
