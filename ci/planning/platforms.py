"""Decide which platforms exist: one per docker/Dockerfile.build.<platform>.

A Dockerfile declares what its platform needs in comment lines of the form
``# ci.<key>: <value>`` (see KNOWN_KEYS). Nothing here talks to Docker.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path

from ci.errors import BadPlatformNameError, PlatformDefinitionError, UnknownPlatformError
from ci.planning import arches, dockerfile
from ci.settings import gpus

DOCKERFILE_PREFIX = "Dockerfile.build."
# Lowercase words joined by single '.', '_' or '-': valid as a Docker repository path component,
# and never a path ('/' or '..').
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
DIRECTIVE_RE = re.compile(r"^#\s*ci\.([a-z-]+)\s*:\s*(.*?)\s*$")
DOCKER_PLATFORM_RE = re.compile(r"^linux/[a-z0-9]+(?:/v[0-9]+)?$")
ENGINE = "engine"  # ci.docker-platform: engine, an image made for the engine's own architecture

KNOWN_KEYS = {
    "docker-platform": "the platform the image is built for and runs as, e.g. linux/arm/v7; or engine: "
    "the engine's own where Debian has a cross toolchain for ci.target there, else ci.target's",
    "target": "the architecture of the binaries built and tested (default: docker-platform)",
    "emulated": "yes when the image's own userland needs QEMU on an x86-64 host",
    "description": "one line shown by --list --verbose",
    "privileged": "yes to run containers with --privileged (never the default)",
    "release": "no when --release and --manifest leave it out (default yes), e.g. a test userland",
    "gpus": "GPUs its runs get: all, a count, device=ID[,ID...] or none (the default)",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Platform:
    name: str
    dockerfile: Path
    docker_platform: str = "linux/amd64"
    target: str = "linux/amd64"
    emulated: bool = False
    description: str = ""
    privileged: bool = False
    release: bool = True
    gpus: gpus.Gpus = gpus.NO_GPUS
    # ci.docker-platform: engine. The image is made for the architecture of the engine it runs
    # on (ci.planning.ways decides); docker_platform holds that choice once made (the target's
    # own until then).
    portable: bool = False
    suite: str = ""  # the Debian suite of its image's FROM ('': not a Debian image)

    @property
    def function_suffix(self) -> str:
        """The platform's name as part of a bash function name (test.armv7 -> test_armv7)."""
        return re.sub(r"[.-]", "_", self.name)


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise BadPlatformNameError(
            f"invalid platform name {name!r}: use lowercase letters, digits and single '.', '_' "
            "or '-' between them (no '/', no '..')",
            hint="run ./build.py -l to list the platforms",
        )
    return name


def _parse_bool(value: str, key: str, path: Path) -> bool:
    lowered = value.lower()
    if lowered in ("yes", "true", "1"):
        return True
    if lowered in ("no", "false", "0"):
        return False
    raise PlatformDefinitionError(f"{path}: ci.{key} must be yes or no, not {value!r}")


def parse_dockerfile(name: str, path: Path, text: str) -> Platform:
    """Read a platform's declarations from its Dockerfile's ``# ci.<key>:`` comment lines."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = DIRECTIVE_RE.match(line.strip())
        if not match:
            continue
        key, value = match.groups()
        if key not in KNOWN_KEYS:
            raise PlatformDefinitionError(
                f"{path}: unknown declaration ci.{key}",
                hint="known: " + ", ".join(f"ci.{k}" for k in sorted(KNOWN_KEYS)),
            )
        fields[key] = value
    declared = fields.get("docker-platform", "linux/amd64")
    portable = declared == ENGINE
    if portable and "target" not in fields:
        raise PlatformDefinitionError(
            f"{path}: ci.docker-platform: engine builds for the target its ci.target names; add one",
            hint="for example: # ci.target: linux/arm64",
        )
    target = fields.get("target", declared)
    docker_platform = target if portable else declared
    for key, value in (("docker-platform", docker_platform), ("target", target)):
        if not DOCKER_PLATFORM_RE.match(value):
            raise PlatformDefinitionError(
                f"{path}: ci.{key} {value!r} is not of the form linux/ARCH[/VARIANT]"
            )
    try:
        wanted_gpus = gpus.parse(fields.get("gpus", "none"))
    except ValueError as exc:
        raise PlatformDefinitionError(f"{path}: ci.gpus {exc}") from exc
    return Platform(
        name=name,
        dockerfile=path,
        docker_platform=docker_platform,
        target=target,
        emulated=_parse_bool(fields.get("emulated", "no"), "emulated", path),
        description=fields.get("description", ""),
        privileged=_parse_bool(fields.get("privileged", "no"), "privileged", path),
        release=_parse_bool(fields.get("release", "yes"), "release", path),
        gpus=wanted_gpus,
        portable=portable,
        suite=dockerfile.debian_suite(text),
    )


def discover(docker_dir: Path) -> dict[str, Platform]:
    """Every platform defined in docker_dir, by name, sorted."""
    found: dict[str, Platform] = {}
    for path in sorted(docker_dir.glob(DOCKERFILE_PREFIX + "*")):
        name = path.name[len(DOCKERFILE_PREFIX) :]
        if not NAME_RE.match(name):
            raise PlatformDefinitionError(
                f"{path}: {name!r} is not a valid platform name",
                hint="rename the file to use lowercase letters, digits, '.', '_' or '-'",
            )
        found[name] = parse_dockerfile(name, path, path.read_text(encoding="utf-8"))
    return found


def select(requested: list[str], known: dict[str, Platform]) -> list[Platform]:
    """The platforms named on the command line, validated, in the order given, without repeats."""
    chosen: list[Platform] = []
    for name in requested:
        validate_name(name)
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownPlatformError(
                f"unknown platform {name!r}; {suggestion}valid platforms: {', '.join(known) or 'none'}",
                hint=f"add docker/{DOCKERFILE_PREFIX}{name} to define it",
            )
        if known[name] not in chosen:
            chosen.append(known[name])
    return chosen


def host_docker_platform(machine: str) -> str:
    """`uname -m` (or the engine's Architecture) -> Docker platform, from docker/arches."""
    arch = arches.by_name(machine)
    return arch.platform if arch else f"linux/{machine}"
