"""Which image tags --prune removes: only ours, only outdated, only platforms defined here."""

from __future__ import annotations

from typing import Any

from ci.images.provide import outdated_tags


def image(tags: list[str], labels: dict[str, str]) -> dict[str, Any]:
    return {"RepoTags": tags, "Labels": labels}


def ours(name: str, content: str, docker_platform: str = "") -> dict[str, str]:
    labels = {"io.ciharness.platform": name, "io.ciharness.content-hash": content}
    if docker_platform:
        labels["io.ciharness.docker-platform"] = docker_platform
    return labels


CURRENT = {("amd64", ""): "new", ("amd64", "linux/amd64"): "new", ("amd64", "linux/arm64"): "armnew"}


def current(name: str, docker_platform: str) -> str | None:
    return CURRENT.get((name, docker_platform))


def test_outdated_tags_of_known_platforms_go() -> None:
    images = [
        image(["ciharness/amd64:old"], ours("amd64", "old")),
        image(["ciharness/amd64:new"], ours("amd64", "new")),
        image(
            ["127.0.0.1:5000/ciharness/amd64:old2", "ciharness/amd64:old2", "mine/keep:1"],
            ours("amd64", "old2"),
        ),
    ]
    assert outdated_tags(images, current) == [
        "ciharness/amd64:old",
        "127.0.0.1:5000/ciharness/amd64:old2",
        "ciharness/amd64:old2",
    ]  # the user's own tag mine/keep:1 is never removed, so its image stays


def test_other_architectures_are_judged_by_their_own_current_hash() -> None:
    images = [
        image(["ciharness/amd64:armnew"], ours("amd64", "armnew", "linux/arm64")),
        image(["ciharness/amd64:armold"], ours("amd64", "armold", "linux/arm64")),
    ]
    assert outdated_tags(images, current) == ["ciharness/amd64:armold"]


def test_unknown_platforms_bases_and_foreign_images_stay() -> None:
    images = [
        image(["ciharness/gone:x"], ours("gone", "x")),
        image(["debian:bookworm"], {"io.ciharness.bootstrapped": "debootstrap bookworm amd64"}),
        image(["nginx:latest"], {}),
        image(["someone/else:1"], ours("amd64", "old")),
    ]
    assert outdated_tags(images, current) == []


def test_a_project_image_goes_with_its_platform_image() -> None:
    """A project's image (ci.planning.projectimage) carries its platform image's content hash:
    kept while that is current, removed with it."""
    kept = ours("amd64", "new") | {"io.ciharness.project-hash": "new-project-abc"}
    gone = ours("amd64", "old") | {"io.ciharness.project-hash": "old-project-abc"}
    images = [
        image(["ciharness/amd64:new-project-abc"], kept),
        image(["ciharness/amd64:old-project-abc"], gone),
    ]
    assert outdated_tags(images, current) == ["ciharness/amd64:old-project-abc"]
