"""Decide one whole invocation: the settings (resolved once) + environment + a few host facts -> a
frozen Invocation.

Every check that needs no engine happens here, in the order a user meets them; ci.running.execute
carries the result out. Reads only local inputs (the Dockerfiles, the step script, binfmt_misc).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from ci import buildsystems
from ci.errors import SourceMissingError, UsageError
from ci.planning import ccache_remote, emulation, endpoints, enginekind, runspec, ways
from ci.planning import jobs as plan_jobs
from ci.planning.functions import defined_functions, resolve_command
from ci.planning.imagerequest import ImageRequest
from ci.planning.platformrun import PlatformRun, with_project_image
from ci.planning.platforms import Platform, discover, host_docker_platform, select
from ci.planning.release import ArchImage, Release, plan_release
from ci.settings import gpus, projectfile
from ci.settings.host import (
    JENKINS_VARIABLES,
    Host,
    default_ccache_dir,
    default_jobs,
    default_parallel,
    docker_config,
)
from ci.settings.options import Options

Mode = Literal["list", "list-json", "prune", "cleanup", "manifest", "build", "print", "interactive", "run"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Invocation:
    """Everything build.py will do, decided before any engine is contacted."""

    mode: Mode
    host: Host
    settings: Options  # every setting as resolved, carried whole
    docker_dir: Path
    platforms: tuple[PlatformRun, ...] = ()
    known: tuple[
        Platform, ...
    ] = ()  # every platform defined (list, prune); those chosen (list-json, manifest)
    engine_urls: tuple[str, ...] = ()  # prune and cleanup: the engines to visit
    endpoints: Mapping[str, endpoints.Endpoint] = dataclasses.field(default_factory=dict)  # URL -> access
    engine_kind: str = "docker"
    podman_socket: Path | None = None  # the podman API service to start, when the engine is podman
    run: runspec.RunSettings | None = None  # what shapes every container (modes over platforms)
    images: ImageRequest | None = None  # how images are found, built and cached (modes over platforms)
    parallel: int = 1
    board: bool = False  # several platforms shown as a live board instead of prefixed lines
    release: Release | None = None

    @property
    def several(self) -> bool:
        return len(self.platforms) > 1

    @property
    def runs_containers(self) -> bool:
        return self.mode in ("interactive", "run")

    @property
    def host_platform(self) -> str:
        return host_docker_platform(self.host.machine)


def mode_of(opts: Options) -> Mode:
    """The first mode the options ask for, else a run."""
    asked: list[tuple[bool, Mode]] = [
        (opts.cleanup, "cleanup"),
        (opts.prune, "prune"),
        (opts.list_platforms or opts.list_gpus, "list"),
        (opts.list_json, "list-json"),
        (opts.manifest is not None, "manifest"),
        (opts.build_only, "build"),
        (opts.print_docker_run, "print"),
        (opts.interactive, "interactive"),
    ]
    return next((mode for wanted, mode in asked if wanted), "run")


def plan_invocation(opts: Options, env: Mapping[str, str], host: Host) -> Invocation:
    mode = mode_of(opts)
    if mode == "cleanup":
        urls, reached = cleanup_engines(opts, env, host)
        return Invocation(
            mode=mode,
            host=host,
            settings=opts,
            docker_dir=opts.docker_dir,
            engine_urls=urls,
            endpoints=reached,
        )
    docker_dir = opts.docker_dir.resolve()
    known = discover(docker_dir)
    projectfile.check_platforms(opts.project, known)
    if mode in ("list", "prune"):
        url = env.get("DOCKER_HOST", "")  # prune: DOCKER_HOST or the local socket
        default = endpoints.Endpoint(url, endpoints.env_tls(env, docker_config(env, host)) if url else None)
        listed = [p for p in known.values() if p.gpus.wanted or not (mode == "list" and opts.list_gpus)]
        return Invocation(
            mode=mode,
            host=host,
            settings=opts,
            docker_dir=docker_dir,
            known=tuple(listed),
            engine_urls=(default.url,),
            endpoints={default.url: default},
        )
    if mode == "list-json":
        listed = select(opts.platforms, known) if opts.platforms else list(known.values())
        return Invocation(mode=mode, host=host, settings=opts, docker_dir=docker_dir, known=tuple(listed))
    if mode == "manifest":  # only the registries: no engine, no source, no build dirs
        chosen = chosen_platforms(opts, known)
        return Invocation(
            mode=mode,
            host=host,
            settings=opts,
            docker_dir=docker_dir,
            known=tuple(chosen),
            release=release_of(opts, chosen),
        )
    return plan_platforms(opts, env, host, mode=mode, docker_dir=docker_dir, known=known)


def cleanup_engines(
    opts: Options, env: Mapping[str, str], host: Host
) -> tuple[tuple[str, ...], dict[str, endpoints.Endpoint]]:
    """The default engine and every engine named by --docker-host or the engines file, and how
    each is reached."""
    named = {
        **(endpoints.load_file(opts.engines) if opts.engines else {}),
        **endpoints.parse_pairs(opts.docker_host),
    }
    access = endpoints.load_access(opts.engines) if opts.engines else {}
    found = endpoints.every_endpoint(list(named.values()), env, docker_config(env, host), access)
    return tuple(found), found


def chosen_platforms(opts: Options, known: dict[str, Platform]) -> list[Platform]:
    chosen = select(list(known) if opts.all else opts.platforms, known)
    if opts.arch:
        arch = emulation.normalize_arch(opts.arch)
        chosen = [emulation.with_arch(p, arch) for p in chosen]
    if len(chosen) > 1 and opts.interactive:
        raise UsageError("-i opens one shell: give one platform")
    return chosen


def engine_choice(
    opts: Options, env: Mapping[str, str], host: Host, chosen: list[Platform], here: str
) -> tuple[str, Path | None, dict[str, endpoints.Endpoint]]:
    """(engine kind, podman socket or None, platform -> engine), every local platform's
    emulation checked, every engine's access checked (no plain TCP off loopback)."""
    kind = enginekind.choose(opts.engine, env)
    engine_env, podman_socket = dict(env), None
    if kind == "podman":  # its Docker-compatible API service stands in for the default engine
        podman_socket = enginekind.socket_path(host.euid, env)
        engine_env["DOCKER_HOST"] = f"unix://{podman_socket}"
    chosen_endpoints = endpoints.endpoints_for(
        [p.name for p in chosen],
        pairs=endpoints.parse_pairs(opts.docker_host),
        file_table=endpoints.load_file(opts.engines) if opts.engines else {},
        access=endpoints.load_access(opts.engines) if opts.engines else {},
        env=engine_env,
        docker_config=docker_config(env, host),
        ssh_config=opts.ssh_config,
    )
    urls = {name: e.url for name, e in chosen_endpoints.items()}
    for p in chosen:
        if endpoints.is_remote(urls[p.name]):
            if opts.interactive:
                raise UsageError(f"-i needs a local engine; {p.name} runs on {urls[p.name]}")
            endpoints.check_secure(chosen_endpoints[p.name], opts.insecure_engines)
        else:
            emulation.check(p, here)
    return kind, podman_socket, chosen_endpoints


def release_of(opts: Options, chosen: list[Platform]) -> Release | None:
    tag = opts.release if opts.release is not None else opts.manifest
    if tag is None or opts.push is None:
        return None
    return plan_release(tag, opts.push, chosen, manifest=not opts.no_manifest)


def source_dir(opts: Options) -> Path:
    source = opts.source.expanduser().resolve()
    if not source.is_dir():
        raise SourceMissingError(
            f"source dir {source} does not exist or is not a directory",
            hint=f"pass the root of an existing C or C++ source tree ({buildsystems.listed()}) "
            "with --source DIR",
        )
    return source


def plan_platforms(
    opts: Options,
    env: Mapping[str, str],
    host: Host,
    *,
    mode: Mode,
    docker_dir: Path,
    known: dict[str, Platform],
) -> Invocation:
    here = host_docker_platform(host.machine)  # a remote engine's own is asked when it is used
    chosen = [ways.on_engine(p, here) for p in chosen_platforms(opts, known)]
    kind, podman_socket, engine_of = engine_choice(opts, env, host, chosen, here)
    release = release_of(opts, chosen)
    release_images: dict[str, ArchImage] = {i.platform: i for i in release.images} if release else {}
    shared = run_settings(opts, env, host, kind=kind, mode=mode)
    commands = commands_for(opts, chosen)
    jobs, projects, build_dirs = plan_jobs.plan(
        opts, env, host, chosen, shared=shared, mode=mode, here=here, engine_of=engine_of
    )
    several = len(jobs) > 1
    runs = tuple(
        with_project_image(
            PlatformRun(
                platform=p,
                engine_url=engine_of[p.name].url,
                image=runspec.image_ref(p, docker_dir),
                build_dir=build_dirs[p.name, v],
                command=commands[p.name],
                project=projects[p.name, v],
                release=release_images.get(p.name),
                gpus=gpus.for_run(p.gpus, opts.gpus),
                variant=v,
            )
        )
        for p, v in jobs
    )
    check_gpus_on_podman(runs, kind, mode)
    check_release_uninstrumented(runs)
    return Invocation(
        mode=mode,
        host=host,
        settings=opts,
        docker_dir=docker_dir,
        platforms=runs,
        endpoints={e.url: e for e in engine_of.values()},
        engine_kind=kind,
        podman_socket=podman_socket,
        run=shared,
        images=image_request(opts),
        parallel=opts.jobs or default_parallel(host.cpus, host.available_memory),
        board=shows_board(opts, host, mode=mode, several=several),
        release=release,
    )


def run_settings(
    opts: Options, env: Mapping[str, str], host: Host, *, kind: str, mode: Mode
) -> runspec.RunSettings:
    """What every container of the invocation shares, decided once: the -e pairs parsed, the
    ccache remote checked, the source, ccache dir and step script found, the compile jobs."""
    user_env = runspec.parse_env(opts.env)
    remote = ccache_remote.validate(opts.ccache_remote)
    source = source_dir(opts)
    return runspec.RunSettings(
        settings=opts,
        host=host,
        source_dir=source,
        ccache_dir=(opts.ccache_dir or default_ccache_dir(env, host.home)).expanduser().resolve(),
        runtime_functions=opts.runtime_functions.resolve(),
        user_env=user_env,
        passthrough_env={k: env[k] for k in JENKINS_VARIABLES if k in env},
        jobs=opts.build_jobs or default_jobs(host.cpus, host.available_memory),
        run_id=uuid.uuid4().hex[:12],
        ccache_remote=remote,
        engine_kind=kind,
        interactive=mode == "interactive",
    )


def check_release_uninstrumented(runs: tuple[PlatformRun, ...]) -> None:
    """A release ships the build's binaries: never ones built for coverage (they write .gcda files
    wherever they run)."""
    for r in runs:
        if r.release is not None and r.project.toolchain.coverage:
            raise UsageError(
                f"--release would ship {r.job}'s binaries built with --coverage",
                hint="release from a run without coverage (no --coverage, no coverage = true)",
            )


def check_gpus_on_podman(runs: tuple[PlatformRun, ...], kind: str, mode: Mode) -> None:
    """Podman's API ignores GPU requests: known without asking it, so refused at once."""
    if kind == "podman" and mode != "build":
        for r in runs:
            gpus.require(r.gpus, {}, kind, r.platform.name, "podman")


def commands_for(opts: Options, chosen: list[Platform]) -> dict[str, tuple[str, ...]]:
    """What each platform's container runs: a runtime function (checked to exist) or a command."""
    functions = defined_functions(opts.runtime_functions.read_text(encoding="utf-8"))
    interactive_default = ["bash"] if opts.interactive and not opts.words and not opts.raw else []
    return {
        p.name: resolve_command(p, opts.words, opts.raw or interactive_default, functions) for p in chosen
    }


def shows_board(opts: Options, host: Host, *, mode: Mode, several: bool) -> bool:
    """--progress: the board for several platforms' runs on a terminal (or when asked for);
    prefixed lines otherwise, so CI logs stay as they are."""
    wanted = opts.progress == "tty" or (opts.progress == "auto" and host.stderr_tty)
    return several and mode == "run" and wanted


def image_request(opts: Options) -> ImageRequest:
    return ImageRequest(
        lock_timeout=opts.lock_timeout,
        debian_mirror=opts.debian_mirror,
        no_cache=opts.no_cache,
        native_packages=opts.native_packages,
        run_only=opts.run_only,
        registry=opts.docker_registry,
        push_cache=opts.push_cache,
    )
