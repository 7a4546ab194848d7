"""cross_toolchain.sh steps as package steps: on an image of another architecture than its target's
(an arm64 image cross-compiling for x86), the cross toolchain's packages are known from the
architecture table the script reads, the foreign architecture the root must have with them, and
the RUN stays after their layer; the loop over an image's steps ends after a kept RUN."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from ci.images import chrootless, nativepackages
from ci.planning import arches
from ci.planning.packagesteps import CROSS_TOOLCHAIN, PackageStep, first_package_step

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COPIES = (
    "FROM debian:trixie\nCOPY install/debian_packages.sh /opt/ci/install/\nCOPY arches /opt/ci/\n"
    "COPY install/cross_toolchain.sh /opt/ci/install/\n"
)


def read_docker(path: str) -> str | None:
    found = DOCKER / path
    return found.read_text(encoding="utf-8") if found.is_file() else None


def third_step(name: str, debian: str) -> PackageStep | None:
    """The step after a build image's two package steps (build tools, build systems)."""
    text = (DOCKER / f"Dockerfile.build.{name}").read_text(encoding="utf-8")
    for number in range(2):
        step = first_package_step(text, read_docker, debian=debian)
        assert step is not None and not step.keep_run
        text = step.continued_from(f"layer{number}")
    return first_package_step(text, read_docker, debian=debian)


@pytest.mark.parametrize(
    ("name", "triplet", "target"),
    [("amd64", "x86-64-linux-gnu", "amd64"), ("i386", "i686-linux-gnu", "i386")],
)
def test_an_x86_images_cross_toolchain_on_arm64_is_a_package_step_that_keeps_its_run(
    name: str, triplet: str, target: str
) -> None:
    step = third_step(name, "arm64")
    assert step is not None
    assert step.packages == (f"gcc-{triplet}", f"g++-{triplet}", f"pkgconf:{target}")
    assert step.architectures == (target,)
    assert step.keep_run and step.kept_runs == 1
    assert step.run == f"RUN /opt/ci/install/cross_toolchain.sh {name}\n"
    rest = step.continued_from("layer2")
    assert rest == f"FROM layer2\n{step.run}ENV CMAKE_TOOLCHAIN_FILE=/opt/ci/toolchain.cmake\n"
    assert first_package_step(rest, read_docker, debian="arm64", skip=step.kept_runs) is None


def test_skip_passes_over_the_runs_kept_so_far() -> None:
    text = (
        f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh amd64\nRUN /opt/ci/install/debian_packages.sh xxd\n"
    )
    cross = first_package_step(text, read_docker, debian="arm64")
    assert cross is not None and cross.keep_run
    assert first_package_step(text, read_docker, debian="arm64", skip=0) == cross  # found again
    after = first_package_step(text, read_docker, debian="arm64", skip=1)
    assert after is not None and after.packages == ("xxd",) and not after.keep_run
    assert after.before.endswith(cross.run)
    assert first_package_step(text, read_docker, debian="arm64", skip=2) is None


def test_on_the_targets_own_architecture_only_further_packages_make_a_step() -> None:
    assert third_step("amd64", "amd64") is None  # native: it writes a toolchain file only
    assert third_step("arm64", "arm64") is None
    step = first_package_step(
        f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh amd64 zlib1g-dev\n", read_docker, debian="amd64"
    )
    assert step is not None
    assert (step.packages, step.architectures, step.keep_run) == (("zlib1g-dev",), (), True)


def test_a_cross_steps_further_packages_come_after_the_toolchains() -> None:
    run = 'RUN ["/opt/ci/install/cross_toolchain.sh", "s390x", "zlib1g-dev:s390x"]\n'
    step = first_package_step(f"{COPIES}ARG QEMU_CPU=max\n{run}", read_docker, debian="arm64")
    assert step is not None and step.stage_args == ("ARG QEMU_CPU=max",)
    assert step.packages == (
        "gcc-s390x-linux-gnu",
        "g++-s390x-linux-gnu",
        "pkgconf:s390x",
        "zlib1g-dev:s390x",
    )
    assert step.architectures == ("s390x",)


@pytest.mark.parametrize(
    ("dockerfile", "debian"),
    [
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh vax\n", "arm64"),  # no such row
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh amd64\n", "armhf"),  # not in its cross_from
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh armv6\n", "amd64"),  # no cross toolchain at all
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh amd64\n", None),  # the image's architecture unknown
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh\n", "arm64"),  # no ARCH
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh --dry-run amd64\n", "arm64"),
        (f"{COPIES}RUN /opt/ci/install/cross_toolchain.sh amd64 && true\n", "arm64"),
        (f"{COPIES}ENV CI_BUILD_DEBIAN=amd64\nRUN /opt/ci/install/cross_toolchain.sh amd64\n", "arm64"),
        (
            COPIES.replace("COPY arches /opt/ci/\n", "") + "RUN /opt/ci/install/cross_toolchain.sh amd64\n",
            "arm64",
        ),
        (COPIES + "RUN /elsewhere/cross_toolchain.sh amd64\n", "arm64"),  # not the copied script
    ],
)
def test_a_cross_toolchain_step_the_script_would_refuse_or_that_is_not_plain_is_left_to_the_image(
    dockerfile: str, debian: str | None
) -> None:
    assert first_package_step(dockerfile, read_docker, debian=debian) is None


def test_the_loop_over_an_images_steps_ends_after_a_kept_run(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[PackageStep] = []

    def layer(engine: object, step: PackageStep, base: str, **_: object) -> str:
        assert len(made) < 5, "the loop goes round and round"
        made.append(step)
        return f"layer{len(made)}"

    monkeypatch.setattr(chrootless, "capable", lambda: None)
    monkeypatch.setattr(nativepackages, "native_layer", layer)
    text = nativepackages.with_native_layers(
        cast(Any, None),
        (DOCKER / "Dockerfile.build.amd64").read_text(encoding="utf-8"),
        docker_platform="linux/arm64",
        context=DOCKER,
        request=cast(Any, None),
        output=lambda data, stderr: None,
        build_before=lambda before: "sha256:base",
        qemu_cpu=None,
    )
    assert [step.architectures for step in made] == [(), (), ("amd64",)]
    assert text.startswith("FROM layer3\nRUN /opt/ci/install/cross_toolchain.sh amd64\n")


def script_plan(
    arch: str, build: str, extra: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """What cross_toolchain.sh --dry-run ARCH PACKAGE... on a build machine of Debian arch build
    installs: (packages, architectures added), or None where it installs nothing or refuses."""
    env = {"PATH": "/usr/bin:/bin", "CI_BUILD_DEBIAN": build, "CMAKE_TOOLCHAIN_FILE": "/nonexistent/t"}
    result = subprocess.run(
        ["bash", str(DOCKER / "install" / CROSS_TOOLCHAIN), "--dry-run", arch, *extra],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=30,
    )
    if result.returncode == 2:
        return None
    assert result.returncode == 0, result.stderr
    added = tuple(
        line.split()[-1] for line in result.stdout.splitlines() if line.startswith("dpkg --add-architecture ")
    )
    installs = [
        line.split()[1:]
        for line in result.stdout.splitlines()
        if line.split()[0].endswith("/debian_packages.sh")
    ]
    return (tuple(installs[0]), added) if installs else None


@pytest.mark.parametrize("build", sorted({a.debian for a in arches.table()} - {arches.NONE}))
def test_the_packages_are_those_the_script_installs_for_every_row(build: str) -> None:
    for row in arches.table():
        for extra in ((), ("zlib1g-dev",)):
            run = shlex.join(["RUN", "/opt/ci/install/cross_toolchain.sh", row.arch, *extra])
            step = first_package_step(f"{COPIES}{run}\n", read_docker, debian=build)
            found = (step.packages, step.architectures) if step else None
            assert found == script_plan(row.arch, build, extra), (row.arch, build, extra)
