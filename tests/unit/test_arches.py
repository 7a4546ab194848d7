"""The architecture table docker/arches: complete rows, facts that hold, names that lead to one
row, and the lookups emulation, --arch, base images and the host's platform make in it."""

from __future__ import annotations

import dataclasses

import pytest

from ci.planning import arches
from ci.planning.platforms import host_docker_platform

# Meson's reference table of cpu_family values (those a Linux target here can have).
MESON_FAMILIES = {"x86", "x86_64", "arm", "aarch64", "s390x", "ppc64", "riscv64", "mips64", "mips"}


def test_every_row_is_complete_and_its_facts_are_of_the_right_kind() -> None:
    rows = arches.table()
    assert {r.arch for r in rows} >= {"amd64", "i386", "armv7", "arm64", "s390x", "ppc64le", "riscv64"}
    for row in rows:
        values = dataclasses.asdict(row)
        assert all(v for k, v in values.items() if k not in ("aliases", "cross_from")), row
        assert row.platform.startswith("linux/") and row.endian in ("little", "big"), row
        assert row.meson_family in MESON_FAMILIES, row
        assert row.triplet == arches.NONE or row.triplet.endswith(
            ("-linux-gnu", "-linux-gnueabi", "-linux-gnueabihf", "-linux-gnuabi64")
        )
    assert {r.arch: r.endian for r in rows if r.endian == "big"} == {"s390x": "big"}


def test_each_name_and_platform_leads_to_one_row() -> None:
    names = [n for r in arches.table() for n in r.names]
    platforms = [p for r in arches.table() for p in r.platforms]
    assert len(names) == len(set(names)) and len(platforms) == len(set(platforms))


@pytest.mark.parametrize(
    ("name", "arch"),
    [("armhf", "armv7"), ("arm", "armv7"), ("armv7l", "armv7"), ("aarch64", "arm64"), ("x86_64", "amd64"),
     ("386", "i386"), ("ppc64el", "ppc64le"), ("mips64el", "mips64le"), ("linux/arm/v7", None),
     ("vax", None)],
)  # fmt: skip
def test_by_name(name: str, arch: str | None) -> None:
    row = arches.by_name(name)
    assert (row.arch if row else None) == arch


def test_by_platform_and_repo() -> None:
    assert (row := arches.by_platform("linux/arm64/v8")) is not None and row.arch == "arm64"
    assert (row := arches.by_platform("linux/ppc64le")) is not None and row.debian == "ppc64el"
    assert (row := arches.by_repo("arm32v7")) is not None and row.platform == "linux/arm/v7"
    assert arches.by_platform("linux/sparc64") is None and arches.by_repo("sparc64") is None


@pytest.mark.parametrize(
    ("machine", "platform"),
    [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"), ("arm64", "linux/arm64"),
     ("armv7l", "linux/arm/v7"), ("i686", "linux/386"), ("s390x", "linux/s390x"),
     ("sparc64", "linux/sparc64")],
)  # fmt: skip
def test_host_docker_platform(machine: str, platform: str) -> None:
    assert host_docker_platform(machine) == platform


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# only comments\n", "the header must be"),
        ("arch platform\n", "the header must be"),
        (" ".join(arches.COLUMNS) + "\narmv7 linux/arm/v7 armhf\n", "row 'armv7' has 3 fields, not 14"),
        (
            " ".join(arches.COLUMNS) + "\na linux/a d r t q - c f m little u d,e -\n",
            "row 'a' lists its own architecture in cross_from",
        ),
    ],
)
def test_parse_refuses_a_broken_table(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        arches.parse(text)


def test_parse_reads_aliases_and_skips_comments() -> None:
    text = (
        "# c\n"
        + " ".join(arches.COLUMNS)
        + "\n\n"
        + "a linux/a d r t-linux-gnu q max,x=on c f u little m e,g x,linux/a/v1\n"
        + "b linux/b e r t-linux-gnu q - c f u little n - -\n"
    )
    (row, other) = arches.parse(text)
    assert row.aliases == ("x", "linux/a/v1") and row.names == ("a", "d", "m", "x")
    assert row.platforms == ("linux/a", "linux/a/v1")
    assert row.cross_from == ("e", "g") and other.cross_from == () and other.aliases == ()
    assert row.qemu_cpu == "max,x=on" and other.qemu_cpu == arches.NONE


def test_cross_from_names_other_rows_debian_architectures() -> None:
    debians = {r.debian for r in arches.table()} - {arches.NONE}
    for row in arches.table():
        assert set(row.cross_from) <= debians - {row.debian}, row
        assert list(row.cross_from) == sorted(row.cross_from), row
    # Neither armhf nor riscv64 build machines have any Debian cross gcc.
    assert not any({"armhf", "riscv64"} & set(r.cross_from) for r in arches.table())
    assert (armv6 := arches.by_name("armv6")) is not None and armv6.cross_from == ()


@pytest.mark.parametrize(
    ("target", "build", "cross"),
    [("linux/arm64", "linux/amd64", True), ("linux/amd64", "linux/arm64", True),
     ("linux/arm64/v8", "linux/amd64", True), ("linux/riscv64", "linux/s390x", True),
     ("linux/arm/v5", "linux/s390x", False), ("linux/amd64", "linux/riscv64", False),
     ("linux/arm64", "linux/riscv64", False), ("linux/386", "linux/riscv64", False),
     ("linux/arm64", "linux/arm64", False), ("linux/amd64", "linux/amd64", False),
     ("linux/arm/v6", "linux/amd64", False), ("linux/amd64", "linux/arm/v6", False),
     ("linux/sparc64", "linux/amd64", False), ("linux/arm64", "linux/sparc64", False)],
)  # fmt: skip
def test_cross_toolchain_on(target: str, build: str, cross: bool) -> None:
    assert arches.cross_toolchain_on(target, build) is cross
