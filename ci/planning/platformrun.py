"""Decide one platform's part of an invocation (its image, build dir, command and project) and
that part as it runs on an engine of a given architecture. Pure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ci.planning import endpoints, projectimage, runspec, toolchains, ways
from ci.planning import projectsettings as project_plan
from ci.planning.platforms import Platform
from ci.planning.release import ArchImage
from ci.settings import gpus


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlatformRun:
    """One platform's part of the invocation."""

    platform: Platform
    engine_url: str  # '' for the default local engine
    image: runspec.ImageRef  # what the container runs: the project's image, else the platform's
    build_dir: Path
    command: tuple[str, ...]
    project: project_plan.PlatformProject
    release: ArchImage | None = None
    gpus: gpus.Gpus = gpus.NO_GPUS
    project_image: projectimage.ProjectImage | None = None
    variant: str = ""  # the project file's [variant.<name>] it builds ('': the project as it is)

    @property
    def job(self) -> str:
        """What the run is called wherever its platform's name was: amd64, or amd64.asan."""
        return f"{self.platform.name}.{self.variant}" if self.variant else self.platform.name

    @property
    def platform_image(self) -> runspec.ImageRef | None:
        """The platform's own image, under a project's image (None: the run uses it itself)."""
        return self.project_image.base if self.project_image else None

    @property
    def remote(self) -> bool:
        return endpoints.is_remote(self.engine_url)


def with_project_image(run: PlatformRun) -> PlatformRun:
    """The run on the project's own image, where the project file adds to the platform's."""
    planned = projectimage.plan(run.platform.name, run.image, run.project.needs)
    if planned is None:
        return run
    return dataclasses.replace(run, image=planned.ref, project_image=planned)


def on_engine(run: PlatformRun, engine_platform: str, docker_dir: Path) -> PlatformRun:
    """The run as an engine of engine_platform runs it: a portable platform's image (and the
    project's image over it) made for that engine (ci.planning.ways); any other run unchanged."""
    platform = ways.on_engine(run.platform, engine_platform)
    if run.remote:  # a local engine's runs were checked while planning (ci.planning.jobs)
        toolchains.check_where(
            run.project.toolchain, platform.name, ways.way(platform, engine_platform), platform.target
        )
    if platform == run.platform:
        return run
    image = runspec.image_ref(platform, docker_dir)
    return with_project_image(dataclasses.replace(run, platform=platform, image=image, project_image=None))
