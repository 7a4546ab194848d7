"""Do: build a platform's release image from its tested build, push it, and join the
architectures into a manifest list in every registry.

Manifest lists go through the docker CLI (`docker manifest`), which the Docker SDK lacks.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ci import images, plan
from ci.baseimage import rewrite_from
from ci.dockerfile import copied_sources
from ci.engine import Engine, Output
from ci.errors import ReleasePushError
from ci.release_plan import ArchImage, is_loopback_registry, manifest_annotation

log = logging.getLogger(__name__)

RELEASE_DOCKERFILE = Path(__file__).resolve().parent.parent / "docker" / "release" / "Dockerfile"


def build_and_push(
    *,
    engine: Engine,
    image: ArchImage,
    build_dir: Path,
    repositories: list[str],
    host_platform: str,
    output: Output,
) -> None:
    """The runtime image of one architecture, from the files its Dockerfile COPYs out of build_dir."""
    text = rewrite_from(RELEASE_DOCKERFILE.read_text(encoding="utf-8"), image.docker_platform, host_platform)
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
        images.ensure_bases(engine, text, image.docker_platform, output)
        log.info("%s: building release image %s for %s", image.platform, refs[0], image.docker_platform)
        engine.build(
            context=context,
            dockerfile="Dockerfile",
            tag=refs[0],
            platform=image.docker_platform,
            labels={plan.LABEL_PREFIX + "release": image.tag},
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


def docker_cli(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**env, "DOCKER_CLI_EXPERIMENTAL": "enabled"}  # `docker manifest` on 20.10 clients
    return subprocess.run(["docker", *args], capture_output=True, text=True, env=full, check=False)


def push_manifest_lists(
    tag: str, repositories: list[str], images: list[ArchImage], env: Mapping[str, str]
) -> None:
    for repo in repositories:
        name = f"{repo}:{tag}"
        insecure = ["--insecure"] if is_loopback_registry(repo) else []
        docker_cli(["manifest", "rm", name], env)  # a stale local list from an earlier release
        steps = [["manifest", "create", *insecure, "--amend", name, *[i.ref(repo) for i in images]]]
        steps += [
            ["manifest", "annotate", name, i.ref(repo), *manifest_annotation(i.docker_platform)]
            for i in images
        ]
        steps.append(["manifest", "push", *insecure, "--purge", name])
        for step in steps:
            result = docker_cli(step, env)
            if result.returncode != 0:
                reason = " ".join((result.stderr or result.stdout).split())[:300]
                raise ReleasePushError(
                    f"docker {' '.join(step[:2])} for {name} failed: {reason}",
                    hint="check that the registry is up and accepts manifest lists",
                )
        log.info("pushed manifest list %s (%s)", name, ", ".join(i.docker_platform for i in images))
