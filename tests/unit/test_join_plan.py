"""Joining per-architecture images: what counts as missing or wrong, the list's bytes, and the
read-back check. Pure logic, no registry."""

from __future__ import annotations

import json

import pytest

from ci.planning.release import arch_images
from ci.release.join_plan import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Found,
    digest_of,
    listed_platforms,
    manifest_list,
    normalize_platform,
    problems,
    readback_problem,
)

IMAGES = arch_images("1.0", {"amd64": "linux/amd64", "arm64": "linux/arm64", "armv7": "linux/arm/v7"})


def found(arch: str, variant: str = "", media_type: str = DOCKER_MANIFEST, digest: str = "") -> Found:
    return Found(
        media_type=media_type,
        digest=digest or digest_of(f"{arch}{variant}".encode()),
        size=500,
        os="linux",
        architecture=arch,
        variant=variant,
    )


GOOD = {"1.0-amd64": found("amd64"), "1.0-arm64": found("arm64", "v8"), "1.0-armv7": found("arm", "v7")}


def test_arm64_v8_is_arm64() -> None:
    assert normalize_platform("linux", "arm64", "v8") == "linux/arm64"
    assert normalize_platform("linux", "arm", "v7") == "linux/arm/v7"
    assert normalize_platform("", "", "") == ""


def test_everything_present_and_right_is_no_problem() -> None:
    have = {(repo, tag): f for repo in ("r1/x", "r2/x") for tag, f in GOOD.items()}
    assert problems(IMAGES, ["r1/x", "r2/x"], have) == []


def test_each_missing_or_wrong_image_is_named_by_reference() -> None:
    have = {("r1/x", tag): f for tag, f in GOOD.items()}
    have[("r2/x", "1.0-amd64")] = found("arm64")  # the tag says amd64, the config says arm64
    have[("r2/x", "1.0-arm64")] = found("arm64", media_type=DOCKER_LIST)
    assert problems(IMAGES, ["r1/x", "r2/x"], have) == [
        "r2/x:1.0-amd64 is linux/arm64, not linux/amd64",
        f"r2/x:1.0-arm64 is not a single image ({DOCKER_LIST})",
        "r2/x:1.0-armv7 is missing",
    ]


def test_wrong_variant_is_wrong() -> None:
    have = {("r/x", t): f for t, f in GOOD.items()} | {("r/x", "1.0-armv7"): found("arm", "v6")}
    assert problems(IMAGES, ["r/x"], have) == ["r/x:1.0-armv7 is linux/arm/v6, not linux/arm/v7"]


def test_list_is_deterministic_whatever_the_order() -> None:
    entries = list(GOOD.values())
    media_type, body = manifest_list(entries)
    assert media_type == DOCKER_LIST
    assert manifest_list(list(reversed(entries))) == (media_type, body)
    data = json.loads(body)
    assert data["schemaVersion"] == 2 and data["mediaType"] == DOCKER_LIST
    assert [m["platform"] for m in data["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    assert data["manifests"][0] == {
        "mediaType": DOCKER_MANIFEST,
        "digest": GOOD["1.0-amd64"].digest,
        "size": 500,
        "platform": {"architecture": "amd64", "os": "linux"},
    }


def test_any_oci_entry_makes_an_oci_index() -> None:
    media_type, body = manifest_list([found("amd64"), found("arm64", media_type=OCI_MANIFEST)])
    assert media_type == OCI_INDEX and json.loads(body)["mediaType"] == OCI_INDEX


def test_readback() -> None:
    media_type, body = manifest_list(list(GOOD.values()))
    assert listed_platforms(media_type, body) == ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    assert readback_problem("r/x:1.0", media_type, body, IMAGES) is None
    _, two = manifest_list([GOOD["1.0-amd64"], GOOD["1.0-arm64"]])
    assert readback_problem("r/x:1.0", media_type, two, IMAGES) == (
        "r/x:1.0 reads back listing linux/amd64, linux/arm64, not linux/amd64, linux/arm/v7, linux/arm64"
    )
    assert "not a manifest list" in str(readback_problem("r/x:1.0", DOCKER_MANIFEST, b"{}", IMAGES))


@pytest.mark.parametrize("media_type", [DOCKER_MANIFEST, "application/json"])
def test_a_single_image_lists_nothing(media_type: str) -> None:
    assert listed_platforms(media_type, b"{}") == []
