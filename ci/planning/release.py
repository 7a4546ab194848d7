"""Decide a multi-architecture release: validated references, the platforms that ship and their
per-architecture tags. Pure; ci.release.push builds and pushes, ci.release.join_plan and
ci.release.join make the list."""

from __future__ import annotations

import dataclasses
import re

from ci.errors import BadReleaseReferenceError
from ci.planning.platforms import Platform

# Docker's grammar: a tag is up to 128 word characters, dots and dashes, not starting with . or -;
# a repository is lowercase path components joined by '/', optionally after a registry host[:port].
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
HOST = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?)"
)
REPOSITORY_RE = re.compile(rf"^(?:{HOST}/)?{COMPONENT}(?:/{COMPONENT})*$")


def validate_tag(tag: str) -> str:
    if not TAG_RE.match(tag):
        raise BadReleaseReferenceError(
            f"invalid release tag {tag!r}: use up to 128 letters, digits, '_', '.' and '-', "
            "not starting with '.' or '-'",
            hint="for example --release 1.2.0",
        )
    return tag


def parse_repositories(value: str) -> list[str]:
    """--push REGISTRY/IMAGE[,REGISTRY2/IMAGE]: validated, without repeats."""
    repos = list(dict.fromkeys(r.strip() for r in value.split(",") if r.strip()))
    if not repos:
        raise BadReleaseReferenceError("--push needs at least one REGISTRY/IMAGE")
    for repo in repos:
        if ":" in repo.rsplit("/", 1)[-1] or "@" in repo or not REPOSITORY_RE.match(repo):
            raise BadReleaseReferenceError(
                f"invalid image reference {repo!r} for --push: expected REGISTRY[:PORT]/NAME "
                "with a lowercase name and no tag",
                hint="for example --push 127.0.0.1:5000/xsum,registry.example.com/team/xsum",
            )
    return repos


def arch_suffix(docker_platform: str) -> str:
    """linux/arm/v7 -> armv7, linux/arm64 -> arm64: the per-architecture tag suffix."""
    return docker_platform.removeprefix("linux/").replace("/", "")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchImage:
    platform: str  # the build platform (armv7)
    docker_platform: str  # what the image runs as (linux/arm/v7)
    tag: str  # TAG-armv7

    def ref(self, repository: str) -> str:
        return f"{repository}:{self.tag}"


def arch_images(tag: str, targets: dict[str, str]) -> list[ArchImage]:
    """One image per platform; targets maps platform -> Docker platform of its binaries."""
    images = [
        ArchImage(platform=p, docker_platform=t, tag=f"{tag}-{arch_suffix(t)}") for p, t in targets.items()
    ]
    seen: dict[str, str] = {}
    for image in images:
        if image.docker_platform in seen:
            raise BadReleaseReferenceError(
                f"platforms {seen[image.docker_platform]} and {image.platform} both build "
                f"{image.docker_platform}: a manifest list holds one image per architecture",
                hint="release one of them",
            )
        seen[image.docker_platform] = image.platform
    return images


def release_targets(platforms: list[Platform], *, required: bool) -> tuple[dict[str, str], list[str]]:
    """(platform -> target of those that ship, names of those whose Dockerfile says ci.release: no).
    Without a list to make (required false, --no-manifest), shipping none of them is no error: a
    CI job per platform passes the same flags to every platform."""
    targets = {p.name: p.target for p in platforms if p.release}
    if not targets and required:
        raise BadReleaseReferenceError(
            "none of the platforms given is released: each says ci.release: no in its Dockerfile",
            hint="name platforms that ship, e.g. -p amd64,arm64 (see ./build.py --list-json)",
        )
    return targets, [p.name for p in platforms if not p.release]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release:
    """What --release or --manifest pushes, and where."""

    tag: str
    repositories: tuple[str, ...]
    images: tuple[ArchImage, ...] = ()  # one per architecture that ships, in the order given
    manifest: bool = True  # push the list TAG (not with --no-manifest: only TAG-<arch>)
    unreleased: tuple[str, ...] = ()  # platforms left out: their Dockerfile says ci.release: no


def plan_release(tag: str, push: str, platforms: list[Platform], *, manifest: bool) -> Release:
    repositories = parse_repositories(push)
    tag = validate_tag(tag)
    targets, unreleased = release_targets(platforms, required=manifest)
    return Release(
        tag=tag,
        repositories=tuple(repositories),
        images=tuple(arch_images(tag, targets)),
        manifest=manifest,
        unreleased=tuple(unreleased),
    )
