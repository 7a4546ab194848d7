"""Decide a release join: whether every TAG-<arch> image found in the registries is there and
really of its architecture, the manifest list that joins them (deterministic bytes), and whether
a list read back names exactly the expected platforms. Pure; ci.release.join does the work."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping

from ci.planning.release import ArchImage

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
LIST_TYPES = (DOCKER_LIST, OCI_INDEX)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Found:
    """What a registry holds under one TAG-<arch>: its manifest, and the platform its config says."""

    media_type: str
    digest: str
    size: int
    os: str = ""
    architecture: str = ""
    variant: str = ""

    @property
    def platform(self) -> str:
        return normalize_platform(self.os, self.architecture, self.variant)


def normalize_platform(os_name: str, architecture: str, variant: str = "") -> str:
    """linux/arm64/v8 and linux/arm64 are one platform (Docker writes the former for arm64)."""
    if architecture == "arm64" and variant == "v8":
        variant = ""
    return "/".join(part for part in (os_name, architecture, variant) if part)


def problems(
    images: list[ArchImage], repositories: list[str], found: Mapping[tuple[str, str], Found | None]
) -> list[str]:
    """Each missing or wrong image, by reference; found maps (repository, tag) -> what is there."""
    wrong: list[str] = []
    for repo in repositories:
        for image in images:
            have = found.get((repo, image.tag))
            ref = image.ref(repo)
            if have is None:
                wrong.append(f"{ref} is missing")
            elif have.media_type not in IMAGE_TYPES:
                wrong.append(f"{ref} is not a single image ({have.media_type})")
            elif have.platform != normalize_platform(*image.docker_platform.split("/")):
                wrong.append(
                    f"{ref} is {have.platform or 'of no stated platform'}, not {image.docker_platform}"
                )
    return wrong


def platform_entry(have: Found) -> dict[str, str]:
    entry = {"architecture": have.architecture, "os": have.os}
    if have.variant:
        entry["variant"] = have.variant
    return entry


def manifest_list(entries: list[Found]) -> tuple[str, bytes]:
    """(media type, body) of the list joining entries: a Docker list when every entry is a Docker
    manifest, else an OCI index. Same entries in any order -> the same bytes, so the same digest."""
    media_type = DOCKER_LIST if all(e.media_type == DOCKER_MANIFEST for e in entries) else OCI_INDEX
    ordered = sorted(entries, key=lambda e: (e.platform, e.digest))
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {"mediaType": e.media_type, "digest": e.digest, "size": e.size, "platform": platform_entry(e)}
            for e in ordered
        ],
    }
    return media_type, json.dumps(body, indent=3, sort_keys=False).encode() + b"\n"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def listed_platforms(media_type: str, body: bytes) -> list[str]:
    """The platforms a manifest list names (empty when it is not a list)."""
    if media_type not in LIST_TYPES:
        return []
    data = json.loads(body)
    return [
        normalize_platform(
            str(m.get("platform", {}).get("os", "")),
            str(m.get("platform", {}).get("architecture", "")),
            str(m.get("platform", {}).get("variant", "")),
        )
        for m in data.get("manifests", [])
    ]


def readback_problem(ref: str, media_type: str, body: bytes, images: list[ArchImage]) -> str | None:
    """Why the list read back from ref is not the one expected, or None when it is."""
    listed = listed_platforms(media_type, body)
    expected = [normalize_platform(*i.docker_platform.split("/")) for i in images]
    if media_type not in LIST_TYPES:
        return f"{ref} reads back as {media_type}, not a manifest list"
    if sorted(listed) != sorted(expected):
        have = ", ".join(sorted(listed)) or "nothing"
        return f"{ref} reads back listing {have}, not {', '.join(sorted(expected))}"
    return None
