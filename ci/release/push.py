"""Do: build a platform's release image from its tested build and push it as TAG-<arch> to every
registry (ci.release.join joins the architectures into the manifest list)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from ci import REPO_ROOT
from ci.engine.client import Engine, Output
from ci.errors import ReleasePushError
from ci.images import provide
from ci.planning import runspec
from ci.planning.dockerfile import copied_sources
from ci.planning.imagerequest import ImageRequest
from ci.planning.release import ArchImage

log = logging.getLogger(__name__)

RELEASE_DOCKERFILE = REPO_ROOT / "docker" / "release" / "Dockerfile"


def build_and_push(
    *,
    engine: Engine,
    image: ArchImage,
    build_dir: Path,
    repositories: list[str],
    host_platform: str,
    output: Output,
    images: ImageRequest,
) -> None:
    """The runtime image of one architecture, from the files its Dockerfile COPYs out of build_dir
    (its base images found, pulled or bootstrapped as images says)."""
    text = provide.fitted_from(
        engine, RELEASE_DOCKERFILE.read_text(encoding="utf-8"), image.docker_platform, host_platform
    )
    refs = [image.ref(repo) for repo in repositories]
    with tempfile.TemporaryDirectory(prefix="ciharness-release-") as tmp:
        context = Path(tmp)
        for name in copied_sources(text):
            source = build_dir / name
            if not source.is_file():
                raise ReleasePushError(
                    f"{image.platform}: {source} is missing, so the release image cannot be built",
                    hint="the release Dockerfile copies it from the platform's build dir",
                )
            shutil.copy2(source, context / name)
        (context / "Dockerfile").write_text(text, encoding="utf-8")
        provide.ensure_bases(engine, text, image.docker_platform, output, images)
        log.info("%s: building release image %s for %s", image.platform, refs[0], image.docker_platform)
        engine.build(
            context=context,
            dockerfile="Dockerfile",
            tag=refs[0],
            platform=image.docker_platform,
            labels={runspec.LABEL_PREFIX + "release": image.tag},
            no_cache=False,
            output=output,
        )
    for ref in refs[1:]:
        engine.tag(refs[0], ref)
    for ref in refs:
        reason = engine.push(ref)
        if reason is not None:
            raise ReleasePushError(
                f"the registry refused {ref}: {reason}", hint="check the registry and your login"
            )
        log.info("%s: pushed %s", image.platform, ref)
