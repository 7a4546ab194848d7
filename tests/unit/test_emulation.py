"""Which architectures need QEMU on which host, and whether the binfmt handlers can run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.errors import EmulationUnavailableError, UsageError
from ci.planning import emulation
from ci.planning.platforms import Platform

HANDLER_OK = "enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: PF\noffset 0\n"


def platform(docker_platform: str = "linux/amd64", target: str | None = None) -> Platform:
    return Platform(
        name="p", dockerfile=Path("/x"), docker_platform=docker_platform, target=target or docker_platform
    )


@pytest.mark.parametrize(
    ("docker_platform", "target", "host", "want"),
    [
        ("linux/amd64", None, "linux/amd64", []),
        ("linux/amd64", "linux/386", "linux/amd64", []),  # x86-64 kernels run i386 natively
        ("linux/amd64", "linux/arm/v7", "linux/amd64", ["linux/arm/v7"]),
        ("linux/arm/v7", None, "linux/amd64", ["linux/arm/v7"]),
        ("linux/arm64", None, "linux/arm64", []),
        ("linux/amd64", None, "linux/arm64", ["linux/amd64"]),
        ("linux/amd64", "linux/s390x", "linux/amd64", ["linux/s390x"]),
    ],
)
def test_needed(docker_platform: str, target: str | None, host: str, want: list[str]) -> None:
    assert emulation.needed(platform(docker_platform, target), host) == want


def test_parse_handler_reads_state_interpreter_and_flags() -> None:
    handler = emulation.parse_handler("qemu-arm", HANDLER_OK)
    assert handler.enabled and handler.flags == "PF"
    assert handler.interpreter == "/usr/libexec/qemu-binfmt/arm-binfmt-P"
    assert not emulation.parse_handler("qemu-arm", HANDLER_OK.replace("enabled", "disabled")).enabled


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "not registered"),
        (HANDLER_OK.replace("enabled", "disabled"), "disabled"),
        (HANDLER_OK.replace("flags: PF", "flags: P"), "F flag"),
    ],
)
def test_check_reports_why_emulation_cannot_work(tmp_path: Path, text: str | None, reason: str) -> None:
    if text is not None:
        (tmp_path / "qemu-arm").write_text(text)
    with pytest.raises(EmulationUnavailableError) as err:
        emulation.check(platform("linux/arm/v7"), "linux/amd64", binfmt_dir=tmp_path)
    assert reason in err.value.message and "provision" in err.value.hint


def test_check_passes_with_a_usable_handler_and_for_native_platforms(tmp_path: Path) -> None:
    (tmp_path / "qemu-arm").write_text(HANDLER_OK)
    emulation.check(platform("linux/arm/v7"), "linux/amd64", binfmt_dir=tmp_path)
    emulation.check(platform("linux/amd64"), "linux/amd64", binfmt_dir=tmp_path / "absent")


def test_unknown_architecture_has_no_emulator(tmp_path: Path) -> None:
    with pytest.raises(EmulationUnavailableError, match="no QEMU user-mode emulator"):
        emulation.check(platform("linux/sparc64"), "linux/amd64", binfmt_dir=tmp_path)


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("arm64", "linux/arm64"),
        ("aarch64", "linux/arm64"),
        ("armv7", "linux/arm/v7"),
        ("linux/s390x", "linux/s390x"),
    ],
)
def test_normalize_arch(given: str, want: str) -> None:
    assert emulation.normalize_arch(given) == want


def test_normalize_arch_rejects_unknown_names() -> None:
    with pytest.raises(UsageError, match="unknown architecture 'vax'"):
        emulation.normalize_arch("vax")


def test_with_arch_moves_native_platforms_and_keeps_cross_targets() -> None:
    native = emulation.with_arch(platform("linux/amd64"), "linux/arm64")
    assert (native.docker_platform, native.target) == ("linux/arm64", "linux/arm64")
    cross = emulation.with_arch(platform("linux/amd64", "linux/arm/v7"), "linux/arm64")
    assert (cross.docker_platform, cross.target) == ("linux/arm64", "linux/arm/v7")


# What the handlers table in this module said before the architecture table replaced it.
HANDLERS_WAS = {
    "linux/arm/v5": "qemu-arm",
    "linux/arm/v6": "qemu-arm",
    "linux/arm/v7": "qemu-arm",
    "linux/arm64": "qemu-aarch64",
    "linux/arm64/v8": "qemu-aarch64",
    "linux/s390x": "qemu-s390x",
    "linux/ppc64le": "qemu-ppc64le",
    "linux/riscv64": "qemu-riscv64",
    "linux/mips64le": "qemu-mips64el",
    "linux/386": "qemu-i386",
    "linux/amd64": "qemu-x86_64",
}


@pytest.mark.parametrize(("docker_platform", "handler"), HANDLERS_WAS.items())
def test_handler_names_come_from_the_architecture_table(docker_platform: str, handler: str) -> None:
    assert emulation.handler_name(docker_platform) == handler
    assert emulation.normalize_arch(docker_platform) == docker_platform  # a Docker platform is kept


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("386", "linux/386"),
        ("armhf", "linux/arm/v7"),
        ("ppc64el", "linux/ppc64le"),
        ("mips64el", "linux/mips64le"),
    ],
)
def test_normalize_arch_takes_debian_and_docker_names(given: str, want: str) -> None:
    assert emulation.normalize_arch(given) == want


def test_normalize_arch_hint_lists_the_tables_names() -> None:
    with pytest.raises(UsageError) as err:
        emulation.normalize_arch("vax")
    assert "aarch64" in err.value.hint and "armhf" in err.value.hint and "s390x" in err.value.hint
