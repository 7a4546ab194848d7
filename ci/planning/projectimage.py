"""Decide a project's own image (pure): a platform's image plus the project file's packages,
build packages and pre-build commands, tagged by a hash of the platform image's tag and those
settings, so an unchanged rerun finds it and two projects that ask for the same share it.

The image is built from a small generated context: a Dockerfile FROM the platform's image and
docker/install/project_image.sh, which installs the packages (the target's through Debian
multiarch in a cross image) and runs the commands.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

from ci import REPO_ROOT
from ci.planning.projectsettings import ImageNeeds
from ci.planning.runspec import LABEL_PREFIX, ImageRef

# The harness's own script (not the docker dir's: a platform dropped into another dir uses it too).
SCRIPT = REPO_ROOT / "docker" / "install" / "project_image.sh"
SCRIPT_IN_IMAGE = "/opt/ci/project/project_image.sh"
# Bump when the way project images are made changes, so every tag changes with it.
SCHEMA = "1"
# What project_image.sh prints before it stops on bad input: build.py reads it from the output.
MISSING_MARK = "ciharness-project: missing packages:"
PRE_BUILD_MARK = "ciharness-project: pre-build failed:"
NOT_SERVED_MARK = "ciharness-project: not served:"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProjectImage:
    """The image a project's runs of one platform use instead of the platform's own."""

    platform: str
    base: ImageRef  # the platform's image
    ref: ImageRef
    needs: ImageNeeds
    script: bytes  # project_image.sh's text

    def dockerfile(self) -> str:
        return f"FROM {self.base}\nCOPY project/ /opt/ci/project/\nRUN {SCRIPT_IN_IMAGE} /opt/ci/project\n"

    def context_files(self) -> dict[str, bytes]:
        """The build context, path -> content: the Dockerfile, the script, one file per list
        (an item a line) and one file per pre-build command (run in order)."""
        files = {
            "Dockerfile": self.dockerfile().encode(),
            "project/project_image.sh": self.script,
            "project/packages": lines(self.needs.packages),
            "project/build-packages": lines(self.needs.build_packages),
            "project/toolchain": lines(self.needs.toolchain),
        }
        for number, command in enumerate(self.needs.pre_build, start=1):
            files[f"project/pre-build/{number:03d}.sh"] = command.encode() + b"\n"
        return files

    def labels(self) -> dict[str, str]:
        """The platform image's labels' meaning kept (ci.images.provide prunes by them), plus
        what tells a project image apart."""
        return {
            LABEL_PREFIX + "platform": self.platform,
            LABEL_PREFIX + "content-hash": self.base.tag,
            LABEL_PREFIX + "project-hash": self.ref.tag,
            LABEL_PREFIX + "project-packages": " ".join(self.needs.packages),
        }


def lines(items: tuple[str, ...]) -> bytes:
    return "".join(f"{item}\n" for item in items).encode()


@functools.cache
def script_text(path: Path) -> bytes:
    """project_image.sh, read once per invocation however many platforms need it."""
    return path.read_bytes()


def plan(platform: str, base: ImageRef, needs: ImageNeeds, script_path: Path = SCRIPT) -> ProjectImage | None:
    """None when the project adds nothing: its runs use the platform's image."""
    if not needs:
        return None
    script = script_text(script_path)
    digest = hashlib.sha256()
    digest.update(f"schema {SCHEMA}\nbase {base}\n".encode())
    for name, items in (
        ("packages", needs.packages),
        ("build-packages", needs.build_packages),
        ("pre-build", needs.pre_build),
        ("toolchain", needs.toolchain),
    ):
        digest.update(f"{name} {len(items)}\n".encode())
        for item in items:
            digest.update(f"{len(item)}:{item}\n".encode())
    digest.update(b"script\n" + script)
    ref = ImageRef(repository=base.repository, tag=f"{base.tag}-project-{digest.hexdigest()[:12]}")
    return ProjectImage(platform=platform, base=base, ref=ref, needs=needs, script=script)
