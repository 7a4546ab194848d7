"""Decide a run's jobs (pure): each chosen platform once per variant asked for (the project file's
[variant.<name>] tables; once, as it is, when none is), each job's project settings and build
dir, its sanitizers checked against the way its tests run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ci.planning import builddirs, endpoints, runspec, toolchains, ways
from ci.planning import projectsettings as project_plan
from ci.planning.platforms import Platform
from ci.settings.host import Host
from ci.settings.options import Options


def plan(
    opts: Options,
    env: Mapping[str, str],
    host: Host,
    chosen: list[Platform],
    *,
    shared: runspec.RunSettings,
    mode: str,
    here: str,
    engine_of: Mapping[str, endpoints.Endpoint],
) -> tuple[
    list[tuple[Platform, str]],
    dict[tuple[str, str], project_plan.PlatformProject],
    dict[tuple[str, str], Path],
]:
    """Each platform's jobs (one per variant asked for; one when none is), each job's project
    settings (its build system checked before its build dir) and its build dir (checked)."""
    default_step = not (opts.words or opts.raw or mode == "interactive")
    variants = project_plan.variants_of(opts)
    jobs = [(p, variant) for p in chosen for variant in variants]
    projects = {
        (p.name, v): project_plan.for_platform(
            opts, p.name, shared.source_dir, default_step=default_step, suite=p.suite, variant=v
        )
        for p, v in jobs
    }
    build_dirs = toolchain_build_dirs(opts, host, jobs, projects=projects, here=here, engine_of=engine_of)
    builddirs.check_no_socket_mount([shared.source_dir, shared.ccache_dir, *build_dirs.values()], env)
    if mode in ("interactive", "run"):
        for p, v in jobs:
            builddirs.check_build_dir(build_dirs[p.name, v], p, shared.source_dir)
    return jobs, projects, build_dirs


def toolchain_build_dirs(
    opts: Options,
    host: Host,
    jobs: list[tuple[Platform, str]],
    *,
    projects: dict[tuple[str, str], project_plan.PlatformProject],
    here: str,
    engine_of: Mapping[str, endpoints.Endpoint],
) -> dict[tuple[str, str], Path]:
    """Each (platform, variant)'s build dir (the variant's, else its toolchain's own:
    ci.planning.builddirs), once its sanitizers are known to work the way its tests run here (a
    remote engine's: when reached)."""
    for p, v in jobs:
        if not endpoints.is_remote(engine_of[p.name].url):
            toolchains.check_where(projects[p.name, v].toolchain, p.name, ways.way(p, here), p.target)
            toolchains.check_aslr(projects[p.name, v].toolchain, p.name, host.aslr_bits)
    several = len(jobs) > 1
    return {
        (p.name, v): builddirs.build_dir_for(
            opts.build_dir, p, host.cwd, several, v or projects[p.name, v].toolchain.label, variant=v
        )
        for p, v in jobs
    }
