"""Do: one invocation of build.py, from Options to outcomes.

Validates every input before any engine is contacted, resolves each platform's engine and
image, runs the platforms (several at once when asked), and reports what they did.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import platform as platform_module
import shlex
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import psutil

from ci import cleanup, emulation, engines, harness, multirun, plan, podman, release, summary, transfer
from ci.engine import Engine, Output, write_through
from ci.errors import (
    BuildDirConflictError,
    DirNotWritableError,
    DockerSocketMountError,
    ExitCode,
    HarnessError,
    SourceMissingError,
    UsageError,
)
from ci.functions import defined_functions, resolve_command
from ci.options import REPO_ROOT, Options
from ci.platforms import Platform, discover, host_docker_platform, select
from ci.release_plan import ArchImage, arch_images, parse_repositories, validate_tag
from ci.summary import Outcome

log = logging.getLogger(__name__)

BUILD_DIR_STAMP = ".ciharness-platform"


def default_ccache_dir(env: Mapping[str, str], home: Path) -> Path:
    if env.get("CCACHE_DIR"):
        return Path(env["CCACHE_DIR"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return base / "ciharness" / "ccache"


def build_dir_for(opts: Options, platform: Platform, cwd: Path, several: bool) -> Path:
    if opts.build_dir is not None:
        base = opts.build_dir if opts.build_dir.is_absolute() else cwd / opts.build_dir
        return base.parent / f"{base.name}.{platform.name}" if several else base
    return cwd / (f"build.{platform.name}" if several else "build")


def default_jobs(cpus: int, available_bytes: int) -> int:
    """One compile job per core, but no more than one per 1 GiB of available memory."""
    return max(1, min(cpus, available_bytes // (1 << 30)))


def stamp_text(platform: Platform, source: Path) -> str:
    return f"platform={platform.name}\nsource={source}\n"


def check_build_dir(build_dir: Path, platform: Platform, source: Path) -> None:
    """A build dir holds one platform's (and one source tree's) outputs, never two."""
    stamp = build_dir / BUILD_DIR_STAMP
    if not stamp.is_file():
        return
    have = stamp.read_text(encoding="utf-8")
    if have != stamp_text(platform, source):
        owner = dict(line.split("=", 1) for line in have.splitlines() if "=" in line)
        raise BuildDirConflictError(
            f"{build_dir} holds outputs of platform {owner.get('platform', '?')} from "
            f"{owner.get('source', '?')}; refusing to mix them with {platform.name} from {source}",
            hint=f"use --build-dir DIR for this run, or remove {build_dir} yourself",
        )


def prepare_dir(path: Path, stamp: str | None = None) -> None:
    """Create as the invoking user, so the engine never creates it root-owned."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if stamp is not None:  # atomically: a run killed mid-write must not leave half a stamp
            partial = path / f"{BUILD_DIR_STAMP}.{os.getpid()}"
            partial.write_text(stamp, encoding="utf-8")
            partial.replace(path / BUILD_DIR_STAMP)
        elif not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"Permission denied: '{path}'")
    except OSError as exc:
        raise DirNotWritableError(
            f"cannot create or write {path}: {exc.strerror or exc}",
            hint="choose a directory you can write with --build-dir / --ccache-dir",
        ) from exc


def run(opts: Options, env: Mapping[str, str]) -> int:
    if opts.cleanup:
        return run_cleanup(opts, env)
    docker_dir = opts.docker_dir.resolve()
    known = discover(docker_dir)
    if opts.prune:
        return run_prune(known, docker_dir, env)
    if opts.list_platforms:
        for name in known:
            print(name)
        return ExitCode.OK
    chosen = select(list(known) if opts.all else opts.platforms, known)
    host = host_docker_platform(platform_module.machine())
    if opts.arch:
        arch = emulation.normalize_arch(opts.arch)
        chosen = [emulation.with_arch(p, arch) for p in chosen]
    several = len(chosen) > 1
    if several and opts.interactive:
        raise UsageError("-i opens one shell: give one platform")
    kind = podman.choose(opts.engine, env)
    engine_env, engine_limits = dict(env), {}
    if kind == "podman":  # its Docker-compatible API service stands in for the default engine
        socket = podman.socket_path(os.geteuid(), env)
        engine_env["DOCKER_HOST"] = podman.ensure_service(socket)
        engine_limits = podman.service_limits(socket)
    engine_urls = engines.engine_for(
        [p.name for p in chosen],
        pairs=engines.parse_pairs(opts.docker_host),
        file_table=engines.load_file(opts.engines) if opts.engines else {},
        env=engine_env,
        docker_config=Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker"),
    )
    for p in chosen:
        if engines.is_remote(engine_urls[p.name]):
            if opts.interactive:
                raise UsageError(f"-i needs a local engine; {p.name} runs on {engine_urls[p.name]}")
        else:
            emulation.check(p, host)
    release_images: dict[str, ArchImage] = {}
    repositories: list[str] = []
    if opts.release is not None and opts.push is not None:
        repositories = parse_repositories(opts.push)
        release_tag = validate_tag(opts.release)
        release_images = {
            image.platform: image for image in arch_images(release_tag, {p.name: p.target for p in chosen})
        }
    user_env = plan.parse_env(opts.env)
    source = (opts.source or REPO_ROOT / "xsum").expanduser().resolve()
    if not source.is_dir():
        raise SourceMissingError(
            f"source dir {source} does not exist or is not a directory",
            hint="pass an existing CMake source tree with --source DIR",
        )
    functions = defined_functions(opts.runtime_functions.read_text(encoding="utf-8"))
    interactive_default = ["bash"] if opts.interactive and not opts.words and not opts.raw else []
    commands = {
        p.name: resolve_command(p, opts.words, opts.raw or interactive_default, functions) for p in chosen
    }
    cwd = Path.cwd()
    build_dirs = {p.name: build_dir_for(opts, p, cwd, several) for p in chosen}
    ccache_dir = (opts.ccache_dir or default_ccache_dir(env, Path.home())).expanduser().resolve()
    check_no_socket_mount([source, ccache_dir, *build_dirs.values()], env)
    if not (opts.build_only or opts.print_docker_run):
        for p in chosen:
            check_build_dir(build_dirs[p.name], p, source)
    passthrough = {k: env[k] for k in cleanup.JENKINS_VARIABLES if k in env}
    cpus, available = psutil.cpu_count() or 1, psutil.virtual_memory().available
    jobs = opts.build_jobs or default_jobs(cpus, available)

    runs_containers = not (opts.build_only or opts.print_docker_run)
    run_id = uuid.uuid4().hex[:12]
    me = psutil.Process()
    owner_start = me.create_time()
    uid, gid = os.getuid(), os.getgid()
    runtime_functions = opts.runtime_functions.resolve()
    rootless = kind == "podman" and podman.rootless()
    host_name = cleanup.this_host()
    live = harness.LiveContainers()
    pool = harness.EnginePool(reap=runs_containers, host_name=host_name)
    if not several:  # one platform: an unreachable engine is reported before anything else
        pool.get(engine_urls[chosen[0].name])
    if runs_containers:
        # Held open (never written) until this process ends, however it ends.
        watchdog_pipe = cleanup.start_watchdog(run_id, env, sorted(set(engine_urls.values())))
        log.debug("watchdog started (pipe fd %d)", watchdog_pipe)

    def work(p: Platform, output: Output) -> Outcome:
        started, started_wall = time.monotonic(), time.time()
        url = engine_urls[p.name]
        engine = pool.get(url)
        remote = engines.is_remote(url)
        engine_platform = pool.docker_platform(url, host)
        ref = harness.ensure_image(
            engine,
            p,
            docker_dir,
            no_cache=opts.no_cache,
            run_only=opts.run_only,
            lock_timeout=opts.lock_timeout,
            host_platform=engine_platform,
            output=output,
            registry=opts.docker_registry,
            push_cache=opts.push_cache,
        )
        if opts.build_only:
            print(ref, flush=True)
            return Outcome(platform=p.name, status=0, seconds=time.monotonic() - started)
        build_dir = build_dirs[p.name]
        spec = plan.plan_run(
            plan.RunInputs(
                platform=p,
                image=ref,
                command=commands[p.name],
                source_dir=source,
                build_dir=build_dir,
                ccache_dir=ccache_dir,
                runtime_functions=runtime_functions,
                user_env=user_env,
                uid=uid,
                gid=gid,
                run_id=run_id,
                owner_pid=me.pid,
                owner_start=owner_start,
                owner_host=host_name,
                passthrough_env=passthrough,
                jobs=jobs,
                ccache_max_size=opts.ccache_max_size,
                writable_source=opts.writable_source,
                interactive=opts.interactive,
                tty=opts.interactive and sys.stdin.isatty(),
                emulated=bool(emulation.needed(p, engine_platform)),
                transfer=remote,
                engine_kind=kind,
                engine_limits=engine_limits,
                rootless=rootless,
            )
        )
        if opts.print_docker_run:
            print(shlex.join(plan.docker_run_argv(spec, mask_secrets=True, engine_url=url)), flush=True)
            masked = [k for k, _ in spec.env if plan.is_secret(k)]
            if masked:
                log.warning(
                    "values of %s not printed: export them before running this line", ", ".join(masked)
                )
            return Outcome(platform=p.name, status=0, seconds=time.monotonic() - started)
        prepare_dir(build_dir, stamp_text(p, source))
        prepare_dir(ccache_dir)
        stats_log = build_dir / plan.CCACHE_STATS_LOG
        lock_name = "build-dir-" + hashlib.sha256(str(build_dir).encode()).hexdigest()[:16]
        with harness.locked(lock_name, f"the build dir {build_dir}", opts.lock_timeout):
            stats_log.unlink(missing_ok=True)  # ours: per-run ccache statistics
            log.info("%s: running %s in %s", p.name, " ".join(spec.command), ref)
            if opts.interactive:
                status = harness.run_interactive(engine, spec)
            elif remote:
                pool.ccache_volume(url, uid, gid, str(ref))
                inputs = transfer.pack_inputs(source, runtime_functions, uid, gid)
                status = harness.run_container(
                    engine,
                    spec,
                    live,
                    output=output,
                    timeout=opts.timeout,
                    before_start=lambda cid: engine.put_archive(cid, "/", inputs),
                    after_exit=lambda cid: log.debug(
                        "copied %d file(s) back",
                        transfer.unpack_results(engine.get_archive(cid, "/work/build"), build_dir),
                    ),
                )
            else:
                status = harness.run_container(engine, spec, live, output=output, timeout=opts.timeout)
        if status == 0 and p.name in release_images:
            release.build_and_push(
                engine=engine,
                image=release_images[p.name],
                build_dir=build_dir,
                repositories=repositories,
                host_platform=engine_platform,
                output=output,
            )
        return collect_outcome(
            p,
            status,
            time.monotonic() - started,
            build_dir,
            started_wall=started_wall,
        )

    with harness.signals_raise():
        try:
            if not several:
                outcomes = [work(chosen[0], write_through)]
                report(outcomes[0])
            else:
                works = [(p.name, functools.partial(work, p)) for p in chosen]
                parallel = opts.jobs or default_parallel(cpus, available)
                outcomes = multirun.run_all(works, parallel=parallel, fail_fast=opts.fail_fast, live=live)
        finally:
            live.remove_all()
        if several:
            sys.stderr.write(summary.table(outcomes) + "\n")
        status = summary.overall_status(outcomes)
        if release_images and status == 0:
            release.push_manifest_lists(opts.release or "", repositories, list(release_images.values()), env)
    return status


def run_prune(known: dict[str, Platform], docker_dir: Path, env: Mapping[str, str]) -> int:
    engine = Engine.connect(env.get("DOCKER_HOST") or None)
    removed = harness.prune_images(engine, known, docker_dir)
    print(f"removed {len(removed)} outdated image tag(s)" + (": " + ", ".join(removed) if removed else ""))
    return ExitCode.OK


def run_cleanup(opts: Options, env: Mapping[str, str]) -> int:
    """Reap orphans on the default engine and on every engine named by --docker-host or the
    engines file; an engine that cannot be reached is reported and the others still cleaned."""
    docker_config = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    named = {
        **(engines.load_file(opts.engines) if opts.engines else {}),
        **engines.parse_pairs(opts.docker_host),
    }
    urls = dict.fromkeys([engines.default_url(env, docker_config), *named.values()])
    removed: list[str] = []
    unreachable = 0
    for url in urls:
        try:
            engine = Engine.connect(engines.resolve(url, docker_config) or None)
        except HarnessError as exc:
            log.error("%s", exc.message)
            unreachable += 1
            continue
        removed += cleanup.reap_orphans(engine, cleanup.this_host())
    print(f"removed {len(removed)} orphaned container(s)" + (": " + ", ".join(removed) if removed else ""))
    return int(ExitCode.ENGINE_UNREACHABLE) if unreachable == len(urls) else ExitCode.OK


DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


def check_no_socket_mount(paths: list[Path], env: Mapping[str, str]) -> None:
    """No mount may expose the engine's socket: that would hand the container root on the host."""
    sockets = [Path(s) for s in DOCKER_SOCKETS]
    if env.get("DOCKER_HOST", "").startswith("unix://"):
        sockets.append(Path(env["DOCKER_HOST"][len("unix://") :]))
    for path in paths:
        for sock in sockets:
            resolved = sock.resolve() if sock.exists() else sock
            if path in (resolved, sock) or path in resolved.parents or path in sock.parents:
                raise DockerSocketMountError(
                    f"refusing to mount {path}: it contains the Docker socket {sock}",
                    hint="choose a source, build or ccache dir that does not contain the engine's socket",
                )


def collect_outcome(
    p: Platform, status: int, seconds: float, build_dir: Path, started_wall: float
) -> Outcome:
    """What the run left behind: its JUnit XML (if written by this run) and ccache stats log."""
    tests = None
    junit = build_dir / "junit" / f"ctest-{p.name}.xml"
    if junit.is_file() and junit.stat().st_mtime >= started_wall - 1:
        with contextlib.suppress(ValueError, SyntaxError):
            tests = summary.junit_counts(junit.read_text(encoding="utf-8"))
    cache = None
    stats_log = build_dir / plan.CCACHE_STATS_LOG
    if stats_log.is_file():
        cache = summary.ccache_counts(stats_log.read_text(encoding="utf-8", errors="replace"))
    return Outcome(platform=p.name, status=status, seconds=seconds, tests=tests, cache=cache)


def report(outcome: Outcome) -> None:
    parts = [
        f"{outcome.platform}: " + ("ok" if outcome.status == 0 else f"exited with status {outcome.status}")
    ]
    if outcome.tests:
        parts.append(f"tests {outcome.tests.passed} passed, {outcome.tests.failed} failed")
    if outcome.cache and outcome.cache.rate is not None:
        c = outcome.cache
        parts.append(f"ccache {c.hits} hits, {c.misses} misses ({c.rate:.0%})")
    if outcome.tests or outcome.cache or outcome.status != 0:
        (log.info if outcome.status == 0 else log.error)("%s", "; ".join(parts))


def default_parallel(cpus: int, available_bytes: int) -> int:
    """Platforms at once: one per core, at most one per 2 GiB of available memory."""
    return max(1, min(cpus, available_bytes // (2 << 30)))
