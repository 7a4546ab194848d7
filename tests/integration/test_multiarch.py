"""Every architecture against the real engine and real QEMU: cross builds whose binaries are
really of the target architecture, tests run under qemu-user, full-emulation userlands, --arch,
several platforms at once."""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import ARM64_USERLAND, elf_identity, run_build_py, tiny_platforms

# platform -> (ELF class bits, byte order, e_machine) as the ELF specification numbers them.
EXPECTED_ELF = {
    "amd64": (64, "little", 62),  # EM_X86_64
    "i386": (32, "little", 3),  # EM_386
    "armv7": (32, "little", 40),  # EM_ARM
    "arm64": (64, "little", 183),  # EM_AARCH64
    "s390x": (64, "big", 22),  # EM_S390
    "ppc64le": (64, "little", 21),  # EM_PPC64
    "riscv64": (64, "little", 243),  # EM_RISCV
}


@pytest.fixture(scope="module")
def all_cross(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, int]:
    """One run of the seven build platforms, two at a time, as a user would start it."""
    base = tmp_path_factory.mktemp("cross")
    result = run_build_py(
        "-p", ",".join(EXPECTED_ELF), "-j", "2",
        "--build-dir", str(base / "build"), "--ccache-dir", str(base / "ccache"),
        timeout=3600,
    )  # fmt: skip
    return base, result.stdout, result.stderr, result.returncode


@pytest.mark.xdist_group("all-cross")  # one worker makes all_cross (a module fixture) and reads it
@pytest.mark.usefixtures("no_leftovers")
def test_every_platform_builds_and_passes_its_tests(all_cross: tuple[Path, str, str, int]) -> None:
    base, _, stderr, status = all_cross
    assert status == 0, stderr[-4000:]
    for name in EXPECTED_ELF:
        suite = ET.parse(base / f"build.{name}" / "junit" / f"ctest-{name}.xml").getroot()
        assert suite.get("name") == f"ctest.{name}"
        assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 12, name
        assert all(c.get("classname", "").startswith(f"{name}.") for c in suite.iter("testcase"))


@pytest.mark.xdist_group("all-cross")
@pytest.mark.parametrize("name", list(EXPECTED_ELF))
def test_binaries_are_of_the_target_architecture(all_cross: tuple[Path, str, str, int], name: str) -> None:
    base = all_cross[0]
    bits, order, machine = EXPECTED_ELF[name]
    for binary in ("xsum", "test_vectors"):
        assert elf_identity(base / f"build.{name}" / binary) == (bits, order, machine)
    # The suite itself reports what it ran on: proof the tests executed as that architecture.
    junit = (base / f"build.{name}" / "junit" / f"ctest-{name}.xml").read_text()
    assert f"on a {bits}-bit {order}-endian target: 0 failure(s)" in junit


@pytest.mark.xdist_group("all-cross")
def test_output_is_prefixed_and_a_summary_table_closes_the_run(all_cross: tuple[Path, str, str, int]) -> None:
    _, stdout, stderr, _ = all_cross
    assert re.search(r"^\[s390x\] 100% tests passed", stdout, re.MULTILINE)
    table = stderr[stderr.rindex("platform  ") :].splitlines()
    rows = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert set(rows) == set(EXPECTED_ELF)
    for row in rows.values():
        assert row[1] == "ok" and "12/0" in row


@pytest.mark.early  # builds an image under full emulation: minutes
@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize(
    ("name", "machine"),
    [
        ("test.armv7", "armv7l"),
        # The head of the suite's longest chain (the arm64 userland's image, then the native
        # arm64 image over it: tests/integration/test_native_arm64.py), in the lane beside both
        # phases (scripts/test.sh), first in it.
        pytest.param(
            "test.arm64", "aarch64", marks=[ARM64_USERLAND, pytest.mark.lane, pytest.mark.early(first=True)]
        ),
    ],
)
def test_full_emulation_userland_reports_its_own_machine(tmp_path: Path, name: str, machine: str) -> None:
    result = run_build_py("-p", name, "--build-dir", str(tmp_path / "b"), "--", "uname", "-m", timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == machine


@pytest.mark.usefixtures("no_leftovers")
def test_arch_option_runs_the_platform_on_another_architecture(tmp_path: Path) -> None:
    """The arm64 userland's Dockerfile built and run for x86-64 (its layers are the amd64
    image's first ones, so this costs a cache hit); the other way round, an image built under
    QEMU, is what the test.<arch> platforms and the release test do."""
    result = run_build_py(
        "-p", "test.arm64", "--arch", "amd64", "--build-dir", str(tmp_path / "b"),
        "--", "uname", "-m", timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "x86_64"


@contextlib.contextmanager
def binfmt_disabled(name: str) -> Iterator[None]:
    handler = Path("/proc/sys/fs/binfmt_misc") / name
    if not handler.exists():
        pytest.skip(f"NO BINFMT HANDLER {name}: cannot test its absence")
    handler.write_text("0")
    try:
        yield
    finally:
        handler.write_text("1")


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_missing_emulation_is_one_clear_line_and_exit_77(tmp_path: Path) -> None:
    with binfmt_disabled("qemu-mips64el"):
        result = run_build_py(
            "-p", "amd64", "--arch", "mips64le", "--build-dir", str(tmp_path / "b"), "--", "true"
        )
    assert result.returncode == 77
    assert "qemu-mips64el" in result.stderr and "disabled" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_one_failing_platform_does_not_stop_the_others(tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {n: "FROM debian:trixie\n" for n in ("one", "two", "three")})
    common = ["--docker-dir", str(docker_dir), "--build-dir", str(tmp_path / "b"), "-j", "2"]
    result = run_build_py(
        "-p", "one,two,three", *common, "--", "sh", "-c", 'echo hi; test "$CI_PLATFORM" != two'
    )
    assert result.returncode == 1
    assert sorted(re.findall(r"^\[(\w+)\] hi$", result.stdout, re.MULTILINE)) == ["one", "three", "two"]
    for name in ("one", "two", "three"):
        assert (tmp_path / f"b.{name}" / ".ciharness-platform").is_file()

    fast = run_build_py(
        "-p",
        "two,one,three",
        *common,
        "-j",
        "1",
        "--fail-fast",
        "--",
        "sh",
        "-c",
        'test "$CI_PLATFORM" != two',
    )
    assert fast.returncode == 1
    assert fast.stderr.count("not run (--fail-fast)") == 2
