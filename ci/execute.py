"""Do: carry out an Invocation. One small function per mode, and the steps a platform goes
through (its image, its container, its release, its outcome); ci.invocation decided them all."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Mapping

from ci import (
    builddirs,
    ccache_remote,
    cleanup,
    containers,
    emulation,
    engines,
    gpus,
    images,
    join,
    locks,
    matrix,
    multirun,
    outcomes,
    plan,
    platformlog,
    podman,
    progress,
    release,
    signals,
    sources,
    summary,
    transfer,
)
from ci.engine import Engine, Output, write_through
from ci.enginepool import EnginePool
from ci.errors import ExitCode, HarnessError, SourceOverlayError, UsageError
from ci.host import docker_config
from ci.invocation import Invocation, Mode, PlatformRun, run_inputs
from ci.release_plan import Release
from ci.summary import Outcome

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Session:
    """What the platforms of one invocation share while it executes."""

    inv: Invocation
    pool: EnginePool
    live: containers.LiveContainers
    engine_limits: Mapping[str, int]
    overlays: sources.OverlaySupport = dataclasses.field(default_factory=sources.OverlaySupport)
    progress: progress.Progress = dataclasses.field(default_factory=progress.Quiet)
    logs: dict[str, platformlog.PlatformLog] = dataclasses.field(default_factory=dict)


Step = Callable[[Session, PlatformRun, Output], Outcome]
Launch = Callable[[Session, PlatformRun, Engine, plan.RunSpec, Output], int]


def execute(inv: Invocation, env: Mapping[str, str]) -> int:
    return MODES[inv.mode](inv, env)


# -- modes without platforms ------------------------------------------------------------------


def list_platforms(inv: Invocation, _env: Mapping[str, str]) -> int:
    for p in inv.known:
        print(p.name)
    return ExitCode.OK


def prune(inv: Invocation, _env: Mapping[str, str]) -> int:
    engine = Engine.connect(inv.endpoints.get(inv.engine_urls[0]) or inv.engine_urls[0] or None)
    removed = images.prune_images(engine, {p.name: p for p in inv.known}, inv.docker_dir)
    print(f"removed {len(removed)} outdated image tag(s)" + (": " + ", ".join(removed) if removed else ""))
    return ExitCode.OK


def cleanup_orphans(inv: Invocation, env: Mapping[str, str]) -> int:
    """Reap orphans on every engine named; one that cannot be reached is reported and the others
    still cleaned."""
    removed: list[str] = []
    unreachable = 0
    for url in inv.engine_urls:
        try:
            endpoint = inv.endpoints.get(url) or engines.resolve_endpoint(url, docker_config(env, inv.host))
            engine = Engine.connect(endpoint)
        except HarnessError as exc:
            log.error("%s", exc.message)
            unreachable += 1
            continue
        removed += cleanup.reap_orphans(engine, inv.host.name)
    print(f"removed {len(removed)} orphaned container(s)" + (": " + ", ".join(removed) if removed else ""))
    return int(ExitCode.ENGINE_UNREACHABLE) if unreachable == len(inv.engine_urls) else ExitCode.OK


# -- modes over platforms ---------------------------------------------------------------------


def open_session(inv: Invocation, env: Mapping[str, str]) -> Session:
    """Engines ready (podman's service started), one platform's engine reached before anything
    else, and the watchdog started when containers will run."""
    limits: dict[str, int] = {}
    if inv.podman_socket is not None:
        podman.ensure_service(inv.podman_socket)
        limits = podman.service_limits(inv.podman_socket)
    pool = EnginePool(reap=inv.runs_containers, host_name=inv.host.name, endpoints=inv.endpoints)
    if not inv.several:  # one platform: an unreachable engine is reported before anything else
        pool.get(inv.platforms[0].engine_url)
        log.debug("engine reached, orphans reaped")
    if inv.runs_containers:
        check_gpus(inv, pool)
    if inv.runs_containers:
        # Held open (never written) until this process ends, however it ends.
        used = sorted({p.engine_url for p in inv.platforms})
        pipe = cleanup.start_watchdog(inv.run_id, env, [inv.endpoints.get(u) or u for u in used])
        log.debug("watchdog started (pipe fd %d)", pipe)
    shown: progress.Progress = progress.Quiet()
    if inv.board:
        from ci.board import Board  # noqa: PLC0415 (rich loads slowly; most runs draw no board)

        shown = Board([p.platform.name for p in inv.platforms])
    session = Session(
        inv=inv, pool=pool, live=containers.LiveContainers(), engine_limits=limits, progress=shown
    )
    refusal = plan.overlay_refusal(inv.engine_kind, inv.engine_kind == "podman" and inv.host.euid != 0)
    if refusal and inv.source_mode == "copy-on-write":
        for url in {p.engine_url for p in inv.platforms if not p.remote}:
            session.overlays.refuse(url, refusal)
    return session


def check_gpus(inv: Invocation, pool: EnginePool) -> None:
    """Every engine asked to give GPUs can, before any image is built or container made."""
    for run in inv.platforms:
        if run.gpus.wanted:
            where = f"the engine at {run.engine_url}" if run.engine_url else "the default engine"
            gpus.require(run.gpus, pool.info(run.engine_url), inv.engine_kind, run.platform.name, where)


def each_platform(inv: Invocation, env: Mapping[str, str], step: Step) -> int:
    session = open_session(inv, env)
    with signals.signals_raise():
        return summary.overall_status(across_platforms(session, step))


def run(inv: Invocation, env: Mapping[str, str]) -> int:
    """Build and test every platform; then, when all passed, the release's manifest lists
    (unless --no-manifest: another machine joins them)."""
    session = open_session(inv, env)
    log_unreleased(inv)
    with signals.signals_raise():
        status = summary.overall_status(across_platforms(session, container_step))
        if inv.release and inv.release.manifest and status == 0:
            join_release(inv.release, env)
    return status


def log_unreleased(inv: Invocation) -> None:
    for name in inv.release.unreleased if inv.release else ():
        log.info("%s: not released (its Dockerfile says ci.release: no)", name)


def join_release(rel: Release, env: Mapping[str, str]) -> int:
    """The manifest list TAG in every registry, from the TAG-<arch> images already there."""
    digests = join.join(rel.tag, list(rel.repositories), list(rel.images), env)
    for repository, digest in digests.items():
        print(f"{repository}:{rel.tag}@{digest}", flush=True)
    return ExitCode.OK


def manifest(inv: Invocation, env: Mapping[str, str]) -> int:
    if inv.release is None:  # options.check_release makes --manifest come with --push
        raise UsageError("--manifest TAG needs --push REGISTRY/IMAGE")
    log_unreleased(inv)
    return join_release(inv.release, env)


def list_json(inv: Invocation, _env: Mapping[str, str]) -> int:
    print(matrix.matrix_json(list(inv.known)))
    return ExitCode.OK


def across_platforms(session: Session, step: Step) -> list[Outcome]:
    """One platform streams straight through; several run at once, prefixed or on the board,
    then a table and what each failed platform left to read."""
    inv = session.inv
    try:
        if not inv.several:
            done = [step(session, inv.platforms[0], write_through)]
            outcomes.report(done[0])
        else:
            works = [(r.platform.name, functools.partial(step, session, r)) for r in inv.platforms]
            with session.progress.shown():
                done = multirun.run_all(
                    works,
                    parallel=inv.parallel,
                    fail_fast=inv.fail_fast,
                    live=session.live,
                    prefixed=not inv.board,
                )
    finally:
        session.live.remove_all()
    if inv.several:
        done = [outcomes.with_log(o, session.logs.get(o.platform)) for o in done]
        sys.stderr.write(summary.table(done) + "\n")
        outcomes.report_failures(done)
    return done


# -- the steps of one platform ----------------------------------------------------------------


def image_for(session: Session, run: PlatformRun, output: Output) -> tuple[Engine, str]:
    """The platform's engine and that engine's own platform, with the image present on it."""
    engine = session.pool.get(run.engine_url)
    engine_platform = session.pool.docker_platform(run.engine_url, session.inv.host_platform)
    images.ensure_image(
        engine,
        run.platform,
        run.image,
        session.inv.docker_dir,
        session.inv.images,
        host_platform=engine_platform,
        output=output,
    )
    return engine, engine_platform


def spec_for(session: Session, run: PlatformRun, engine_platform: str) -> plan.RunSpec:
    emulated = bool(emulation.needed(run.platform, engine_platform))
    inputs = run_inputs(session.inv, run, emulated=emulated, engine_limits=session.engine_limits)
    mode = session.overlays.mode_for(run.engine_url, inputs.source_mode)
    return plan.plan_run(dataclasses.replace(inputs, source_mode=mode))


def image_only(session: Session, run: PlatformRun, output: Output) -> Outcome:
    started = time.monotonic()
    image_for(session, run, output)
    print(run.image, flush=True)
    return Outcome(platform=run.platform.name, status=0, seconds=time.monotonic() - started)


def print_line(session: Session, run: PlatformRun, output: Output) -> Outcome:
    started = time.monotonic()
    engine, engine_platform = image_for(session, run, output)
    spec = spec_for(session, run, engine_platform)
    sources.prepare_layers(engine, spec)  # so that the line works when pasted
    line = plan.docker_run_argv(spec, mask_secrets=True, engine_url=run.engine_url, owned=False)
    print(shlex.join(line), flush=True)
    masked = [k for k, v in spec.env if plan.hidden(k, v)]
    if masked:
        log.warning("values of %s not printed: export them before running this line", ", ".join(masked))
    if any(k == ccache_remote.ENV_NAME for k in masked):
        log.warning(
            "  (%s holds the --ccache-remote URL: export it from $CI_CCACHE_REMOTE)", ccache_remote.ENV_NAME
        )
    return Outcome(platform=run.platform.name, status=0, seconds=time.monotonic() - started)


def in_container(
    session: Session, run: PlatformRun, engine: Engine, spec: plan.RunSpec, output: Output
) -> int:
    """Run the spec's container to its end; a remote engine gets its inputs by copy, and gives
    the build dir back the same way."""
    inv = session.inv
    if not run.remote:
        return containers.run_container(engine, spec, session.live, output=output, timeout=inv.timeout)
    session.pool.ccache_volume(run.engine_url, inv.host.uid, inv.host.gid, str(run.image))
    inputs = transfer.pack_inputs(inv.source, inv.runtime_functions, inv.host.uid, inv.host.gid)

    def copy_back(cid: str) -> None:
        copied = transfer.unpack_results(engine.get_archive(cid, plan.BUILD_IN_CONTAINER), run.build_dir)
        log.debug("copied %d file(s) back", copied)

    return containers.run_container(
        engine,
        spec,
        session.live,
        output=output,
        timeout=inv.timeout,
        before_start=lambda cid: engine.put_archive(cid, "/", inputs),
        after_exit=copy_back,
    )


def shell(session: Session, run: PlatformRun, engine: Engine, spec: plan.RunSpec, output: Output) -> int:
    return containers.run_interactive(engine, spec)


@contextlib.contextmanager
def build_dir_in_use(session: Session, run: PlatformRun, output: Output) -> Iterator[platformlog.PlatformLog]:
    """The build and ccache dirs created as the user, the build dir stamped and locked for this
    run, and its build.log (a run's, not a shell's) open from the image step on."""
    inv = session.inv
    builddirs.prepare_dir(run.build_dir, builddirs.stamp_text(run.platform, inv.source))
    builddirs.prepare_dir(inv.ccache_dir)
    log_path = run.build_dir / builddirs.BUILD_LOG if inv.mode == "run" else None
    with (
        locks.locked(builddirs.lock_name(run.build_dir), f"the build dir {run.build_dir}", inv.lock_timeout),
        platformlog.opened(run.platform.name, log_path, output, session.progress) as plog,
    ):
        session.logs[run.platform.name] = plog
        yield plog


def launch_with_source(
    session: Session,
    run: PlatformRun,
    engine: Engine,
    *,
    engine_platform: str,
    launch: Launch,
    output: Output,
) -> int:
    """Launch with the planned source; once more, read-only, if the engine cannot make the
    copy-on-write overlay. The overlay's root-owned scratch is cleared after a run that ended."""
    spec = spec_for(session, run, engine_platform)
    sources.prepare_layers(engine, spec)
    try:
        status = launch(session, run, engine, spec, output)
    except SourceOverlayError as exc:
        session.overlays.refuse(run.engine_url, exc.message)
        return launch(session, run, engine, spec_for(session, run, engine_platform), output)
    sources.clear_scratch(engine, spec)
    return status


def container_step(
    session: Session, run: PlatformRun, output: Output, launch: Launch = in_container
) -> Outcome:
    started, started_wall = time.monotonic(), time.time()
    name = run.platform.name
    with build_dir_in_use(session, run, output) as plog:
        session.progress.state(name, "image")
        engine, engine_platform = image_for(session, run, plog)
        (run.build_dir / plan.CCACHE_STATS_LOG).unlink(missing_ok=True)  # this run's statistics only
        log.info("%s: running %s in %s", name, " ".join(run.command), run.image)
        session.progress.state(name, "building")
        status = launch_with_source(
            session, run, engine, engine_platform=engine_platform, launch=launch, output=plog
        )
        if status == 0 and run.release is not None and session.inv.release is not None:
            release.build_and_push(
                engine=engine,
                image=run.release,
                build_dir=run.build_dir,
                repositories=list(session.inv.release.repositories),
                host_platform=engine_platform,
                output=plog,
            )
    session.progress.state(name, "passed" if status == 0 else "failed")
    outcome = outcomes.collect(
        name,
        status,
        time.monotonic() - started,
        run.build_dir,
        started_wall=started_wall,
        tail=tuple(plog.tail),
        log_path=plog.path,
    )
    outcomes.warn_remote_failures(outcome, session.inv.ccache_remote)
    return outcome


MODES: dict[Mode, Callable[[Invocation, Mapping[str, str]], int]] = {
    "list": list_platforms,
    "list-json": list_json,
    "manifest": manifest,
    "prune": prune,
    "cleanup": cleanup_orphans,
    "build": functools.partial(each_platform, step=image_only),
    "print": functools.partial(each_platform, step=print_line),
    "interactive": functools.partial(each_platform, step=functools.partial(container_step, launch=shell)),
    "run": run,
}
