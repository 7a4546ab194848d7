"""Which base images a Dockerfile needs, and which of them can be bootstrapped offline."""

from __future__ import annotations

import pytest

from ci.errors import PlatformDefinitionError
from ci.images.baseimage import (
    BaseImage,
    BootstrapRecipe,
    base_images,
    bootstrap_recipe,
    local_name,
    rewrite_from,
)
from ci.settings import table

AMD64 = "linux/amd64"

# -- base_images ------------------------------------------------------------------------------

MIRROR = str(table.by_name("debian-mirror").value_default)


def bases(text: str, default: str = AMD64) -> list[tuple[str, str]]:
    return [(b.name, b.docker_platform) for b in base_images(text, default)]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("FROM debian:bookworm\nRUN true\n", [("debian:bookworm", AMD64)]),
        ("from debian:bookworm\n", [("debian:bookworm", AMD64)]),
        ("FROM --platform=linux/arm64 debian:bookworm\n", [("debian:bookworm", "linux/arm64")]),
        (
            "FROM --platform=linux/arm/v7 arm32v7/debian:bookworm AS b\n",
            [("arm32v7/debian:bookworm", "linux/arm/v7")],
        ),
        ("FROM scratch\nCOPY x /x\n", []),
        ("FROM SCRATCH\n", []),
        (
            "FROM debian:bookworm AS build\nRUN make\nFROM build AS test\n"
            "FROM scratch\nCOPY --from=build /a /a\n",
            [("debian:bookworm", AMD64)],
        ),
        ("FROM debian:bookworm AS Build\nFROM build\n", [("debian:bookworm", AMD64)]),  # case-insensitive
        ("FROM debian:bookworm\nFROM debian:bookworm\n", [("debian:bookworm", AMD64)]),  # once
        (
            "FROM debian:bookworm\nFROM --platform=linux/arm64 debian:bookworm\n",
            [("debian:bookworm", AMD64), ("debian:bookworm", "linux/arm64")],
        ),
        # A stage can only name an earlier stage: before its definition, 'build' is an image.
        ("FROM build\nFROM debian:bookworm AS build\n", [("build", AMD64), ("debian:bookworm", AMD64)]),
        ("FROM debian:bookworm \\\n    AS build\nFROM build\n", [("debian:bookworm", AMD64)]),
        ("# FROM ubuntu:22.04\nFROM debian:12\n", [("debian:12", AMD64)]),
    ],
)
def test_base_images(text: str, want: list[tuple[str, str]]) -> None:
    assert bases(text) == want


def test_default_platform_is_the_platforms() -> None:
    assert base_images("FROM debian:bookworm\n", "linux/s390x") == [
        BaseImage(name="debian:bookworm", docker_platform="linux/s390x")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "ARG BASE=debian:bookworm\nFROM $BASE\n",
        "ARG SUITE=bookworm\nFROM debian:${SUITE}\n",
        "FROM --platform=$BUILDPLATFORM debian:bookworm\n",
    ],
)
def test_build_arguments_in_from_are_refused(text: str) -> None:
    with pytest.raises(PlatformDefinitionError, match="build arguments in FROM are not supported"):
        base_images(text, AMD64)


@pytest.mark.parametrize("text", ["FROM\n", "FROM --platform=linux/arm64\n"])
def test_from_without_an_image(text: str) -> None:
    with pytest.raises(PlatformDefinitionError, match="FROM without an image"):
        base_images(text, AMD64)


def test_stage_named_like_its_base_image() -> None:
    assert bases("FROM ubuntu AS ubuntu\n") == [("ubuntu", AMD64)]


# -- bootstrap_recipe -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "platform", "suite", "arch", "recipe_platform"),
    [
        ("debian:bookworm", "linux/amd64", "bookworm", "amd64", "linux/amd64"),
        ("debian:12", "linux/amd64", "bookworm", "amd64", "linux/amd64"),
        ("debian:bookworm-slim", "linux/amd64", "bookworm", "amd64", "linux/amd64"),
        ("debian:trixie", "linux/arm64", "trixie", "arm64", "linux/arm64"),
        ("debian:11", "linux/386", "bullseye", "i386", "linux/386"),
        ("debian:unstable", "linux/s390x", "sid", "s390x", "linux/s390x"),
        ("debian:bookworm", "linux/arm/v7", "bookworm", "armhf", "linux/arm/v7"),
        ("debian:bookworm", "linux/ppc64le", "bookworm", "ppc64el", "linux/ppc64le"),
        ("library/debian:bookworm", "linux/amd64", "bookworm", "amd64", "linux/amd64"),
        ("docker.io/library/debian:bookworm", "linux/amd64", "bookworm", "amd64", "linux/amd64"),
        # Docker's per-architecture repositories name the architecture themselves.
        ("arm32v7/debian:bookworm", "linux/amd64", "bookworm", "armhf", "linux/arm/v7"),
        ("docker.io/arm32v5/debian:bookworm", "linux/amd64", "bookworm", "armel", "linux/arm/v5"),
        ("s390x/debian:12", "linux/amd64", "bookworm", "s390x", "linux/s390x"),
    ],
)
def test_bootstrap_recipe(image: str, platform: str, suite: str, arch: str, recipe_platform: str) -> None:
    assert bootstrap_recipe(BaseImage(name=image, docker_platform=platform), MIRROR) == BootstrapRecipe(
        image=image, docker_platform=recipe_platform, suite=suite, debian_arch=arch, mirror=MIRROR
    )


def test_bootstrap_recipe_arm64v8() -> None:
    recipe = bootstrap_recipe(BaseImage(name="arm64v8/debian:trixie", docker_platform=AMD64), MIRROR)
    assert recipe is not None
    assert (recipe.suite, recipe.debian_arch) == ("trixie", "arm64")
    assert recipe.docker_platform in ("linux/arm64", "linux/arm64/v8")  # the same to Docker


@pytest.mark.parametrize(
    ("image", "platform"),
    [
        ("ubuntu:22.04", "linux/amd64"),
        ("ubuntu:bookworm", "linux/amd64"),
        ("debian:unknown-suite", "linux/amd64"),
        ("debian", "linux/amd64"),  # :latest moves; no fixed suite
        ("debian:latest", "linux/amd64"),
        ("debian:bookworm", "linux/sparc64"),
        ("arm32v7/ubuntu:bookworm", "linux/amd64"),
        ("someone/debian:bookworm", "linux/amd64"),
        ("registry.example.org:5000/debian:bookworm", "linux/amd64"),
        ("debian@sha256:" + "0" * 64, "linux/amd64"),
    ],
)
def test_no_bootstrap_recipe(image: str, platform: str) -> None:
    assert bootstrap_recipe(BaseImage(name=image, docker_platform=platform), MIRROR) is None


def test_bootstrap_recipe_mirror() -> None:
    recipe = bootstrap_recipe(
        BaseImage(name="debian:12", docker_platform=AMD64), "http://mirror.local/debian"
    )
    assert recipe is not None
    assert recipe.mirror == "http://mirror.local/debian"


# -- local_name / rewrite_from ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "platform", "want"),
    [
        ("debian:bookworm", "linux/amd64", "debian:bookworm"),  # the host's own
        ("debian:bookworm", "linux/arm/v7", "arm32v7/debian:bookworm"),
        ("debian", "linux/arm64", "arm64v8/debian:latest"),
        ("docker.io/library/debian:12", "linux/s390x", "s390x/debian:12"),
        ("ubuntu:22.04", "linux/arm64", "ubuntu:22.04"),  # only official Debian is renamed
        ("debian:bookworm", "linux/unknown", "debian:bookworm"),
    ],
)
def test_local_name(image: str, platform: str, want: str) -> None:
    assert local_name(image, platform, host_platform=AMD64) == want


def test_rewrite_from_renames_only_from_lines() -> None:
    text = (
        "# FROM debian:bookworm stays a comment\n"
        "FROM --platform=linux/arm/v7 debian:bookworm AS build\n"
        "RUN echo debian:bookworm\n"
        "FROM debian:bookworm\n"
    )
    assert rewrite_from(text, "linux/arm64", AMD64) == (
        "# FROM debian:bookworm stays a comment\n"
        "FROM --platform=linux/arm/v7 arm32v7/debian:bookworm AS build\n"
        "RUN echo debian:bookworm\n"
        "FROM arm64v8/debian:bookworm\n"
    )


def test_rewrite_from_is_identity_on_the_host_platform() -> None:
    text = "FROM debian:bookworm\nRUN true\n"
    assert rewrite_from(text, AMD64, AMD64) == text


# -- a plain tag of another architecture on the engine ---------------------------------------


class TagsOnEngine:
    """An engine's image store as fitted_from sees it: tag -> its platform."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags

    def image_platform(self, ref: str) -> str | None:
        return self.tags.get(ref)


def test_a_plain_debian_tag_of_another_architecture_is_not_built_on() -> None:
    """An engine that says it is arm64 while its debian:trixie is amd64 (a shim in front of an
    x86-64 engine, a tag pulled for another platform): the arm64 image is built on
    arm64v8/debian:trixie, never on that amd64 one."""
    from ci.images.provide import fitted_from

    text = "FROM debian:trixie\nRUN true\n"
    engine = TagsOnEngine({"debian:trixie": AMD64, "arm64v8/debian:trixie": "linux/arm64/v8"})
    fitted = fitted_from(engine, text, "linux/arm64", "linux/arm64")  # type: ignore[arg-type]
    assert fitted == "FROM arm64v8/debian:trixie\nRUN true\n"
    native = TagsOnEngine({"debian:trixie": "linux/arm64"})  # a real arm64 engine's own tag
    assert fitted_from(native, text, "linux/arm64", "linux/arm64") == text  # type: ignore[arg-type]
    missing = TagsOnEngine({})  # not there: found, pulled or bootstrapped under the plain name
    assert fitted_from(missing, text, "linux/arm64", "linux/arm64") == text  # type: ignore[arg-type]


def test_local_name_qualifies_the_hosts_own_when_asked() -> None:
    assert local_name("debian:trixie", AMD64, AMD64, qualify=True) == "amd64/debian:trixie"
    assert local_name("ubuntu:24.04", AMD64, AMD64, qualify=True) == "ubuntu:24.04"
    foreign = frozenset({BaseImage(name="debian:trixie", docker_platform=AMD64)})
    assert rewrite_from("FROM debian:trixie\n", AMD64, AMD64, foreign) == "FROM amd64/debian:trixie\n"
