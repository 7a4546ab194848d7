"""Do: the steps one platform goes through (its image, its container, its release, its outcome)
and the session the platforms of one invocation share; ci.running.execute runs them per mode."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shlex
import shutil
import time
from collections.abc import Callable, Iterator, Mapping

from ci.base import locks
from ci.engine.client import Engine, Output
from ci.errors import SourceOverlayError
from ci.images import hostqemu, projectbuild
from ci.output import coverage, outcomes, platformlog, progress, summary
from ci.output.outcomes import Outcome
from ci.planning import (
    builddirs,
    ccache_remote,
    emulation,
    endpoints,
    platformrun,
    runline,
    runplan,
    runspec,
    ways,
)
from ci.planning.imagerequest import ImageRequest
from ci.planning.invocation import Invocation
from ci.planning.platformrun import PlatformRun
from ci.release import push
from ci.running import containers, hostdirs, sources, transfer
from ci.running.pool import EnginePool

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Session:
    """What the platforms of one invocation share while it executes."""

    inv: Invocation
    run: runspec.RunSettings  # the invocation's (modes over platforms always have them)
    images: ImageRequest
    pool: EnginePool
    live: containers.LiveContainers
    engine_limits: Mapping[str, int]
    overlays: sources.OverlaySupport = dataclasses.field(default_factory=sources.OverlaySupport)
    progress: progress.Progress = dataclasses.field(default_factory=progress.Quiet)
    logs: dict[str, platformlog.PlatformLog] = dataclasses.field(default_factory=dict)
    ended: Callable[[Outcome], None] = lambda _outcome: None  # told each platform's outcome (the report)


Step = Callable[[Session, PlatformRun, Output], Outcome]
Launch = Callable[[Session, PlatformRun, Engine, runspec.RunSpec, Output], int]


def on_its_engine(session: Session, run: PlatformRun) -> tuple[Engine, str, PlatformRun]:
    """The platform's engine, that engine's own platform, and the run as that engine makes it
    (a portable platform's image for that architecture: ci.planning.ways)."""
    engine = session.pool.get(run.engine_url)
    engine_platform = session.pool.docker_platform(run.engine_url, session.inv.host_platform)
    placed = platformrun.on_engine(run, engine_platform, session.inv.docker_dir)
    log.debug(
        "%s: %s on a %s engine (image for %s, target %s)",
        run.platform.name,
        ways.way(placed.platform, engine_platform),
        engine_platform,
        placed.platform.docker_platform,
        placed.platform.target,
    )
    return engine, engine_platform, placed


def image_for(session: Session, run: PlatformRun, output: Output) -> tuple[Engine, str, PlatformRun]:
    """on_its_engine, with the run's image present on that engine."""
    engine, engine_platform, run = on_its_engine(session, run)
    projectbuild.ensure_run_image(
        engine,
        run.platform,
        run.image,
        run.project_image,
        context=session.inv.docker_dir,
        request=session.images,
        host_platform=engine_platform,
        output=output,
    )
    return engine, engine_platform, run


def spec_for(session: Session, run: PlatformRun, engine_platform: str) -> runspec.RunSpec:
    """The run's spec on its engine: emulated or not, and the source mode that engine can give."""
    return runplan.spec_for(
        session.run,
        run,
        source_mode=session.overlays.mode_for(run.engine_url, session.run.settings.source_mode),
        emulated=bool(emulation.needed(run.platform, engine_platform)),
        engine_limits=session.engine_limits,
        qemu_cpu=hostqemu.qemu_cpu_here(
            run.platform, engine_platform, local=endpoints.on_this_machine(run.engine_url)
        ),
    )


def image_only(session: Session, run: PlatformRun, output: Output) -> Outcome:
    started = time.monotonic()
    _, _, run = image_for(session, run, output)
    print(run.image, flush=True)
    return Outcome(platform=run.job, status=0, seconds=time.monotonic() - started)


def print_line(session: Session, run: PlatformRun, output: Output) -> Outcome:
    started = time.monotonic()
    engine, engine_platform, run = image_for(session, run, output)
    spec = spec_for(session, run, engine_platform)
    sources.prepare_layers(engine, spec)  # so that the line works when pasted
    line = runline.docker_run_argv(spec, mask_secrets=True, engine_url=run.engine_url, owned=False)
    print(shlex.join(line), flush=True)
    masked = [k for k, v in spec.env if runspec.hidden(k, v)]
    if masked:
        log.warning("values of %s not printed: export them before running this line", ", ".join(masked))
    if any(k == ccache_remote.ENV_NAME for k in masked):
        log.warning(
            "  (%s holds the --ccache-remote URL: export it from $CI_CCACHE_REMOTE)", ccache_remote.ENV_NAME
        )
    return Outcome(platform=run.job, status=0, seconds=time.monotonic() - started)


def in_container(
    session: Session, run: PlatformRun, engine: Engine, spec: runspec.RunSpec, output: Output
) -> int:
    """Run the spec's container to its end; a remote engine gets its inputs by copy, and gives
    the build dir back the same way."""
    shared, timeout = session.run, session.run.settings.timeout
    if not run.remote:
        return containers.run_container(engine, spec, session.live, output=output, timeout=timeout)
    host = shared.host
    session.pool.ccache_volume(run.engine_url, host.uid, host.gid, str(run.image))
    inputs = transfer.pack_inputs(shared.source_dir, shared.runtime_functions, host.uid, host.gid)

    def copy_back(cid: str) -> None:
        copied = transfer.unpack_results(engine.get_archive(cid, runspec.BUILD_IN_CONTAINER), run.build_dir)
        log.debug("copied %d file(s) back", copied)

    return containers.run_container(
        engine,
        spec,
        session.live,
        output=output,
        timeout=timeout,
        before_start=lambda cid: engine.put_archive(cid, "/", inputs),
        after_exit=copy_back,
    )


def shell(session: Session, run: PlatformRun, engine: Engine, spec: runspec.RunSpec, output: Output) -> int:
    return containers.run_interactive(engine, spec)


@contextlib.contextmanager
def build_dir_in_use(session: Session, run: PlatformRun, output: Output) -> Iterator[platformlog.PlatformLog]:
    """The build and ccache dirs created as the user, the build dir stamped and locked for this
    run, and its build.log (a run's, not a shell's) open from the image step on."""
    shared = session.run
    hostdirs.prepare_dir(run.build_dir, builddirs.stamp_text(run.platform, shared.source_dir))
    hostdirs.prepare_dir(shared.ccache_dir)
    log_path = run.build_dir / builddirs.BUILD_LOG if session.inv.mode == "run" else None
    lock_timeout = shared.settings.lock_timeout
    with (
        locks.locked(builddirs.lock_name(run.build_dir), f"the build dir {run.build_dir}", lock_timeout),
        platformlog.opened(run.job, log_path, output, session.progress) as plog,
    ):
        session.logs[run.job] = plog
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
    name = run.job
    with build_dir_in_use(session, run, output) as plog:
        session.progress.state(name, "image")
        engine, engine_platform, run = image_for(session, run, plog)
        way = ways.way(run.platform, engine_platform)
        for last_runs in (runspec.CCACHE_STATS_LOG, runspec.CCACHE_LOG):  # this run's own only
            (run.build_dir / last_runs).unlink(missing_ok=True)
        shutil.rmtree(run.build_dir / coverage.DIR, ignore_errors=True)  # an earlier run's, not this one's
        build = run.project.build
        chosen = f" (build system {build.system}, from {build.reason})" if build else ""
        toolchain = run.project.toolchain
        chosen += f" with {toolchain.describe()}" if not toolchain.default else ""
        log.info("%s: running %s in %s (%s)%s", name, " ".join(run.command), run.image, way, chosen)
        session.progress.state(name, "building")
        status = launch_with_source(
            session, run, engine, engine_platform=engine_platform, launch=launch, output=plog
        )
        outcome = collected(
            run, status, seconds=time.monotonic() - started, started_wall=started_wall, plog=plog, way=way
        )
        if outcome.status == 0:  # passed (its quarantined tests aside): its binaries may ship
            release(session, run, engine, engine_platform, plog)
    session.progress.state(name, "passed" if outcome.status == 0 else "failed")
    ccache_log = run.build_dir / runspec.CCACHE_LOG
    summary.warn_remote_failures(outcome, session.run.ccache_remote, ccache_log)
    if not (outcome.cache and outcome.cache.remote_failures):
        ccache_log.unlink(missing_ok=True)  # some 5 KB a compilation, kept only to tell a failure
    return outcome


def collected(
    run: PlatformRun,
    status: int,
    *,
    seconds: float,
    started_wall: float,
    plog: platformlog.PlatformLog,
    way: str,
) -> Outcome:
    """What the run left (ci.output.outcomes.collect), with the project's quarantine."""
    return outcomes.collect(
        run.job,
        status,
        seconds,
        run.build_dir,
        started_wall=started_wall,
        tail=tuple(plog.tail),
        log_path=plog.path,
        build=run.project.build,
        expect_tests=run.project.tests,
        way=way,
        quarantine=run.project.quarantine,
        image=str(run.image),
        expect_coverage=run.project.toolchain.coverage,
    )


def release(
    session: Session, run: PlatformRun, engine: Engine, engine_platform: str, plog: platformlog.PlatformLog
) -> None:
    """--release: the platform's release image from its build dir, pushed to every repository."""
    if run.release is None or session.inv.release is None:
        return
    push.build_and_push(
        engine=engine,
        image=run.release,
        build_dir=run.build_dir,
        repositories=list(session.inv.release.repositories),
        host_platform=engine_platform,
        output=plog,
        images=session.images,
    )
