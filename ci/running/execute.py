"""Do: carry out an Invocation, one small function per mode (ci.planning.invocation decided them all); the
steps of each platform are in ci.running.steps."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Mapping

from ci.engine import podman
from ci.engine.client import Engine, write_through
from ci.errors import ExitCode, HarnessError, UsageError
from ci.images import provide
from ci.output import outcomes, progress, summary
from ci.output.outcomes import Outcome
from ci.output.platformlog import PlatformLog
from ci.output.timeline import Recorder
from ci.planning import endpoints, quirks
from ci.planning.invocation import Invocation, Mode
from ci.planning.release import Release
from ci.running import cleanup, containers, signals
from ci.running.pool import EnginePool
from ci.running.steps import Session, Step, container_step, image_only, print_line, shell
from ci.settings import gpus
from ci.settings.host import docker_config

log = logging.getLogger(__name__)


def execute(inv: Invocation, env: Mapping[str, str]) -> int:
    return MODES[inv.mode](inv, env)


# -- modes without platforms ------------------------------------------------------------------


def list_platforms(inv: Invocation, _env: Mapping[str, str]) -> int:
    for p in inv.known:
        print(p.name)
    return ExitCode.OK


def prune(inv: Invocation, _env: Mapping[str, str]) -> int:
    engine = Engine.connect(inv.endpoints.get(inv.engine_urls[0]) or inv.engine_urls[0] or None)
    removed = provide.prune_images(engine, {p.name: p for p in inv.known}, inv.docker_dir)
    print(f"removed {len(removed)} outdated image tag(s)" + (": " + ", ".join(removed) if removed else ""))
    return ExitCode.OK


def cleanup_orphans(inv: Invocation, env: Mapping[str, str]) -> int:
    """Reap orphans on every engine named; one that cannot be reached is reported and the others
    still cleaned."""
    removed: list[str] = []
    unreachable = 0
    for url in inv.engine_urls:
        try:
            endpoint = inv.endpoints.get(url) or endpoints.resolve_endpoint(url, docker_config(env, inv.host))
            engine = Engine.connect(endpoint)
        except HarnessError as exc:
            log.error("%s", exc.message)
            unreachable += 1
            continue
        removed += cleanup.reap_orphans(engine, inv.host.name)
    print(f"removed {len(removed)} orphaned container(s)" + (": " + ", ".join(removed) if removed else ""))
    return int(ExitCode.ENGINE_UNREACHABLE) if unreachable == len(inv.engine_urls) else ExitCode.OK


# -- modes over platforms ---------------------------------------------------------------------


def open_session(inv: Invocation, env: Mapping[str, str], recorder: Recorder | None = None) -> Session:
    """Engines ready (podman's service started), one platform's engine reached before anything
    else, and the watchdog started when containers will run. A recorder (the report's) is told
    every state and outcome, and passes the states on to the board."""
    if inv.run is None or inv.images is None:  # plan_platforms decides both for these modes
        raise AssertionError(f"mode {inv.mode} planned without its run settings")
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
        pipe = cleanup.start_watchdog(inv.run.run_id, env, [inv.endpoints.get(u) or u for u in used])
        log.debug("watchdog started (pipe fd %d)", pipe)
    shown: progress.Progress = progress.Quiet()
    if inv.board:
        from ci.output.board import Board  # noqa: PLC0415 (rich loads slowly; most runs draw no board)

        shown = Board([p.job for p in inv.platforms])
    if recorder is not None:
        recorder.inner, shown = shown, recorder
    session = Session(
        inv=inv,
        run=inv.run,
        images=inv.images,
        pool=pool,
        live=containers.LiveContainers(),
        engine_limits=limits,
        progress=shown,
        ended=recorder.outcome if recorder is not None else lambda _outcome: None,
    )
    refusal = quirks.overlay_refusal(inv.engine_kind, inv.engine_kind == "podman" and inv.host.euid != 0)
    if refusal and inv.settings.source_mode == "copy-on-write":
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
    (unless --no-manifest: another machine joins them). The report is written however the run
    ends, from what is known then."""
    recorder = Recorder([p.job for p in inv.platforms])
    logs: dict[str, PlatformLog] = {}
    try:
        session = open_session(inv, env, recorder)
        logs = session.logs
        log_unreleased(inv)
        with signals.signals_raise():
            done = across_platforms(session, container_step)
            status = summary.overall_status(done)
            if inv.several and any(o.coverage for o in done):
                from ci.running import coveragemerge  # noqa: PLC0415  # only a --coverage run needs it

                coveragemerge.merge(session, done)
            if inv.release and inv.release.manifest and status == 0:
                join_release(inv.release, env, inv.settings.insecure_registries)
    finally:
        write_report(inv, recorder, logs, env, sys.exc_info()[1])
    return status


def write_report(
    inv: Invocation,
    recorder: Recorder,
    logs: Mapping[str, PlatformLog],
    env: Mapping[str, str],
    error: BaseException | None,
) -> None:
    """The run's report, however it ended; its modules load only now (the benchmark's P12 reads
    the --debug line)."""
    started = time.monotonic()
    from ci.output import report  # noqa: PLC0415

    written = report.write(inv, recorder, logs, env, error)
    log.debug("report %s written in %.3f s", written or "(none)", time.monotonic() - started)


def log_unreleased(inv: Invocation) -> None:
    for name in inv.release.unreleased if inv.release else ():
        log.info("%s: not released (its Dockerfile says ci.release: no)", name)


def join_release(rel: Release, env: Mapping[str, str], insecure: str) -> int:
    """The manifest list TAG in every registry, from the TAG-<arch> images already there."""
    from ci.release import join  # noqa: PLC0415  # the modes' own modules are imported by their mode

    digests = join.join(rel.tag, list(rel.repositories), list(rel.images), env, insecure)
    for repository, digest in digests.items():
        print(f"{repository}:{rel.tag}@{digest}", flush=True)
    return ExitCode.OK


def manifest(inv: Invocation, env: Mapping[str, str]) -> int:
    if inv.release is None:  # options.check_release makes --manifest come with --push
        raise UsageError("--manifest TAG needs --push REGISTRY/IMAGE")
    log_unreleased(inv)
    return join_release(inv.release, env, inv.settings.insecure_registries)


def list_json(inv: Invocation, _env: Mapping[str, str]) -> int:
    from ci.planning import matrix, projectsettings  # noqa: PLC0415

    print(matrix.matrix_json(list(inv.known), projectsettings.variants_of(inv.settings)))
    return ExitCode.OK


def across_platforms(session: Session, step: Step) -> list[Outcome]:
    """One platform streams straight through; several run at once, prefixed or on the board,
    then a table and what each failed platform left to read."""
    inv = session.inv
    try:
        if not inv.several:
            done = [step(session, inv.platforms[0], write_through)]
            session.ended(done[0])
            summary.report(done[0])
        else:
            from ci.running import multirun  # noqa: PLC0415  # one platform never needs it

            works = [(r.job, functools.partial(step, session, r)) for r in inv.platforms]
            with session.progress.shown():
                done = multirun.run_all(
                    works,
                    parallel=inv.parallel,
                    fail_fast=inv.settings.fail_fast,
                    live=session.live,
                    prefixed=not inv.board,
                    ended=session.ended,
                )
    finally:
        session.live.remove_all()
    if inv.several:
        done = [outcomes.with_log(o, session.logs.get(o.platform)) for o in done]
        for outcome in done:
            session.ended(outcome)
        sys.stderr.write(summary.table(done) + "\n")
        summary.report_failures(done)
    return done


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
