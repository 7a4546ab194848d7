"""Release references, per-architecture tags and manifest annotations."""

from __future__ import annotations

import pytest

from ci.errors import BadReleaseReferenceError
from ci.planning.release import (
    arch_images,
    arch_suffix,
    parse_repositories,
    validate_tag,
)


@pytest.mark.parametrize("tag", ["1.0", "v2.3.4-rc1", "latest", "a" * 128, "_x"])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "-x", ".x", "bad tag", "a" * 129, "a/b", "x:y"])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(BadReleaseReferenceError, match="invalid release tag"):
        validate_tag(tag)


def test_repositories_are_split_deduplicated_and_validated() -> None:
    value = "127.0.0.1:5000/xsum, registry.example.com/team/xsum,127.0.0.1:5000/xsum"
    assert parse_repositories(value) == ["127.0.0.1:5000/xsum", "registry.example.com/team/xsum"]


@pytest.mark.parametrize(
    "value", ["", ",", "127.0.0.1:5000/Upper", "host/xsum:1.0", "host/x@sha256:ab", "a//b"]
)
def test_invalid_repositories(value: str) -> None:
    with pytest.raises(BadReleaseReferenceError):
        parse_repositories(value)


@pytest.mark.parametrize(
    ("platform", "suffix"), [("linux/amd64", "amd64"), ("linux/arm/v7", "armv7"), ("linux/arm64", "arm64")]
)
def test_arch_suffix(platform: str, suffix: str) -> None:
    assert arch_suffix(platform) == suffix


def test_arch_images_name_one_tag_per_architecture() -> None:
    images = arch_images("1.0", {"amd64": "linux/amd64", "armv7": "linux/arm/v7"})
    assert [(i.platform, i.tag, i.ref("r/x")) for i in images] == [
        ("amd64", "1.0-amd64", "r/x:1.0-amd64"),
        ("armv7", "1.0-armv7", "r/x:1.0-armv7"),
    ]


def test_two_platforms_of_one_architecture_cannot_share_a_list() -> None:
    with pytest.raises(BadReleaseReferenceError, match="one image per architecture"):
        arch_images("1.0", {"arm64": "linux/arm64", "test.arm64": "linux/arm64"})


def test_platforms_saying_release_no_are_left_out() -> None:
    from pathlib import Path

    from ci.planning.platforms import Platform
    from ci.planning.release import release_targets

    arm = Platform(name="arm64", dockerfile=Path("x"), target="linux/arm64")
    test_arm = Platform(name="test.arm64", dockerfile=Path("y"), docker_platform="linux/arm64", release=False)
    assert release_targets([arm, test_arm], required=True) == ({"arm64": "linux/arm64"}, ["test.arm64"])
    with pytest.raises(BadReleaseReferenceError, match="none of the platforms given is released"):
        release_targets([test_arm], required=True)
    # A CI job per platform passes --release ... --no-manifest to every platform: no error then.
    assert release_targets([test_arm], required=False) == ({}, ["test.arm64"])


def test_plan_release_validates_and_keeps_the_order_given() -> None:
    from pathlib import Path

    from ci.planning.platforms import Platform
    from ci.planning.release import plan_release

    platforms = [
        Platform(name="armv7", dockerfile=Path("a"), target="linux/arm/v7"),
        Platform(name="amd64", dockerfile=Path("b")),
        Platform(name="test.armv7", dockerfile=Path("c"), docker_platform="linux/arm/v7", release=False),
    ]
    rel = plan_release("1.0", "r1/x,r2/y", platforms, manifest=False)
    assert (rel.tag, rel.repositories, rel.manifest, rel.unreleased) == (
        "1.0",
        ("r1/x", "r2/y"),
        False,
        ("test.armv7",),
    )
    assert [i.tag for i in rel.images] == ["1.0-armv7", "1.0-amd64"]
    with pytest.raises(BadReleaseReferenceError, match="invalid release tag"):
        plan_release("-x", "r/x", platforms, manifest=True)
