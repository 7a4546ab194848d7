"""Decide which base images a Dockerfile needs and how to make each one offline.

An image that can be neither found locally nor pulled is bootstrapped with debootstrap when it
is a Debian image: ``debian:<suite>`` (the platform's architecture) or one of Docker's
per-architecture repositories such as ``arm32v7/debian:<suite>``. ci.images.bootstrap does the work.
"""

from __future__ import annotations

import dataclasses
import re
import shlex

from ci.errors import PlatformDefinitionError
from ci.planning import arches
from ci.planning.dockerfile import SUITES, logical_lines


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseImage:
    name: str
    docker_platform: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class BootstrapRecipe:
    image: str
    docker_platform: str
    suite: str
    debian_arch: str
    mirror: str


def base_images(dockerfile_text: str, default_platform: str) -> list[BaseImage]:
    """External images named by FROM lines (not scratch, not earlier build stages)."""
    stages: set[str] = set()
    found: list[BaseImage] = []
    for line in logical_lines(dockerfile_text):
        words = shlex.split(line)
        if not words or words[0].upper() != "FROM":
            continue
        args = words[1:]
        platform = default_platform
        while args and args[0].startswith("--"):
            flag = args.pop(0)
            if flag.startswith("--platform="):
                platform = flag.split("=", 1)[1]
        if not args:
            raise PlatformDefinitionError(f"FROM without an image: {line!r}")
        image = args[0]
        if "$" in image or "$" in platform:
            raise PlatformDefinitionError(
                f"FROM {image!r}: build arguments in FROM are not supported; name the image"
            )
        earlier_stage = image.lower() in stages  # only stages named before this line count
        if len(args) >= 3 and args[1].upper() == "AS":
            stages.add(args[2].lower())
        if image.lower() == "scratch" or earlier_stage:
            continue
        if not any(b.name == image and b.docker_platform == platform for b in found):
            found.append(BaseImage(name=image, docker_platform=platform))
    return found


OFFICIAL_DEBIAN = ("debian", "library/debian", "docker.io/debian", "docker.io/library/debian")
FROM_RE = re.compile(r"^(\s*FROM\s+(?:--\S+\s+)*)(\S+)(.*)$", re.IGNORECASE)


def local_name(image: str, docker_platform: str, host_platform: str, *, qualify: bool = False) -> str:
    """The name under which image for docker_platform lives in the local store.

    One local tag holds one architecture, so the official Debian image for a foreign
    architecture goes by Docker's per-architecture repository: debian:bookworm for linux/arm/v7
    is arm32v7/debian:bookworm (the name Docker Hub also serves it under). qualify: that name
    even for the host's own (its plain tag holds another architecture on this engine).
    """
    arch = arches.by_platform(docker_platform)
    if (docker_platform == host_platform and not qualify) or arch is None or arch.debian == arches.NONE:
        return image
    repo, _, tag = with_default_tag(image).rpartition(":")
    if repo not in OFFICIAL_DEBIAN:
        return image
    return f"{arch.repo}/debian:{tag}"


def rewrite_from(
    dockerfile_text: str,
    docker_platform: str,
    host_platform: str,
    foreign: frozenset[BaseImage] = frozenset(),
) -> str:
    """The Dockerfile with FROM images renamed by local_name (the rest untouched); the bases in
    foreign (their plain tag is of another architecture here) by their per-architecture name."""
    out: list[str] = []
    for line in dockerfile_text.splitlines(keepends=True):
        match = FROM_RE.match(line)
        if match and not line.lstrip().startswith("#"):
            head, image, tail = match.groups()
            flags = re.findall(r"--platform=(\S+)", head)
            platform = flags[0] if flags else docker_platform
            qualify = BaseImage(name=image, docker_platform=platform) in foreign
            renamed = local_name(image, platform, host_platform, qualify=qualify)
            out.append(head + renamed + tail + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out)


def same_architecture(one: str, other: str) -> bool:
    """Whether two Docker platforms name one architecture (linux/arm64 and linux/arm64/v8 do)."""
    row = arches.by_platform(one)
    return one == other or (row is not None and row == arches.by_platform(other))


def with_default_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else image + ":latest"


def bootstrap_recipe(base: BaseImage, mirror: str) -> BootstrapRecipe | None:
    """How to make base offline, or None when it is not a Debian image we know how to make."""
    name = with_default_tag(base.name)
    repo, _, tag = name.rpartition(":")
    suite = SUITES.get(tag)
    if suite is None:
        return None
    platform = base.docker_platform
    if repo in OFFICIAL_DEBIAN:
        arch = arches.by_platform(platform)
    else:
        prefix, _, rest = repo.rpartition("/")
        if rest != "debian":
            return None
        arch = arches.by_repo(prefix.removeprefix("docker.io/"))
        platform = arch.platform if arch else platform
    if arch is None or arch.debian == arches.NONE:
        return None
    return BootstrapRecipe(
        image=base.name, docker_platform=platform, suite=suite, debian_arch=arch.debian, mirror=mirror
    )
