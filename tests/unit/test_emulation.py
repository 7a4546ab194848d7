"""Which architectures need QEMU on which host, and whether the binfmt handlers can run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.errors import EmulationUnavailableError, UsageError
from ci.images import hostqemu
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


# -- QEMU_CPU ---------------------------------------------------------------------------------

ARM64, AMD64, ARMV7 = "linux/arm64", "linux/amd64", "linux/arm/v7"
FAST = "max,pauth-impdef=on"  # arm64's row in docker/arches


@pytest.mark.parametrize(
    ("docker_platform", "target", "host", "version", "want"),
    [
        (AMD64, ARM64, AMD64, (7, 2), FAST),  # cross: the tests under qemu-aarch64
        (ARM64, ARM64, AMD64, (7, 2), FAST),  # a whole arm64 userland under QEMU
        (ARM64, ARM64, ARM64, None, FAST),  # native: nothing reads it, so nothing to know
        (AMD64, ARM64, AMD64, (5, 2), None),  # QEMU before 6.0 has no such CPU property
        (AMD64, ARM64, AMD64, None, None),  # another machine's QEMU, not known
        (ARMV7, ARM64, AMD64, (7, 2), None),  # qemu-arm would read it too, and refuse it
        (AMD64, ARMV7, AMD64, (7, 2), None),  # armv7's row keeps QEMU's default
        (ARM64, AMD64, ARM64, None, None),  # an amd64 cross image on arm64: qemu-x86_64's tests
        (ARM64, AMD64, AMD64, (7, 2), FAST),  # that image on x86-64: its arm64 compilers emulated
        (ARM64, ARMV7, AMD64, (7, 2), None),  # an armv7 cross image made for arm64: two QEMUs
    ],
)  # fmt: skip
def test_qemu_cpu_is_the_targets_where_its_qemu_alone_would_read_it(
    docker_platform: str, target: str, host: str, version: tuple[int, int] | None, want: str | None
) -> None:
    assert emulation.qemu_cpu(platform(docker_platform, target), host, lambda _: version) == want


def test_a_cross_images_steps_are_the_engines_own_code() -> None:
    cross = platform(AMD64, ARM64)
    assert emulation.qemu_cpu(cross, AMD64, lambda _: (7, 2)) == FAST  # its tests
    assert emulation.build_qemu_cpu(cross, AMD64, lambda _: (7, 2)) is None  # its image's RUN steps
    assert emulation.build_qemu_cpu(platform(ARM64, ARM64), AMD64, lambda _: (7, 2)) == FAST
    # An x86-64 cross image made for arm64 on this x86-64 machine: its steps are arm64 programs.
    assert emulation.build_qemu_cpu(platform(ARM64, AMD64), AMD64, lambda _: (7, 2)) == FAST
    assert emulation.build_qemu_cpu(platform(ARM64, AMD64), ARM64, lambda _: (7, 2)) is None


def test_qemu_cpu_here_asks_this_machines_qemu_only_where_it_emulates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def version(docker_platform: str) -> tuple[int, int]:
        asked.append(docker_platform)
        return (5, 2)

    monkeypatch.setattr(hostqemu, "handler_qemu_version", version)
    assert hostqemu.qemu_cpu_here(platform(AMD64, ARMV7), AMD64, local=True, machine="x86_64") is None
    assert hostqemu.qemu_cpu_here(platform(ARM64, ARM64), ARM64, local=False, machine="x86_64") == FAST
    assert asked == []
    assert hostqemu.qemu_cpu_here(platform(AMD64, ARM64), AMD64, local=True, machine="x86_64") is None  # 5.2
    assert hostqemu.qemu_cpu_here(platform(AMD64, ARM64), AMD64, local=False, machine="x86_64") is None
    assert asked == [ARM64]
    # An engine on this machine that says it is arm64 (a loopback front): this kernel decides
    # what is emulated, so the x86-64 cross image made for arm64 has its arm64 programs emulated.
    asked.clear()
    assert hostqemu.qemu_cpu_here(platform(ARM64, AMD64), ARM64, local=True, machine="x86_64") is None  # 5.2
    assert asked == [ARM64]


def test_the_version_comes_from_the_handlers_interpreter(tmp_path: Path) -> None:
    interpreter = tmp_path / "bin" / "qemu-aarch64-static"
    interpreter.parent.mkdir()
    interpreter.write_text("#!/bin/sh\necho 'qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7)'\n")
    interpreter.chmod(0o755)
    (tmp_path / "aarch64-binfmt-P").symlink_to(interpreter)
    (tmp_path / "qemu-aarch64").write_text(
        f"enabled\ninterpreter {tmp_path / 'aarch64-binfmt-P'}\nflags: PF\n"
    )
    assert hostqemu.handler_qemu_version(ARM64, tmp_path) == (7, 2)
    assert hostqemu.handler_qemu_version(ARMV7, tmp_path) is None  # no handler
    assert emulation.parse_qemu_version("qemu-arm version 10.1.0") == (10, 1)
    assert emulation.parse_qemu_version("no version here") is None
