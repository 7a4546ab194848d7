"""Command line: argv -> options -> work. The one place where errors become exit codes."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import platform as platform_module
import re
import shlex
import signal
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import psutil

from ci import cleanup, emulation, engines, harness, multirun, plan, podman, release, summary, transfer
from ci import log as ci_log
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
from ci.platforms import Platform, discover, host_docker_platform, select
from ci.release_plan import ArchImage, arch_images, parse_repositories, validate_tag
from ci.summary import Outcome

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR_STAMP = ".ciharness-platform"
CCACHE_SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]?i?$")
REGISTRY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")

EXAMPLES = """\
examples:
  ./build.py -l                                   list the platforms
  ./build.py -a -j 3                              every platform, 3 at a time, then a summary
  ./build.py -p armv7,arm64,s390x                 cross-compile, test under qemu-user
  ./build.py -p amd64                             build the image if needed, then build + test
  ./build.py -p amd64 -- bash -c 'exit 7'         any command (build.py exits 7)
  ./build.py -p amd64 unittest_xsum               a function of runtime_functions.sh
  ./build.py -p amd64 -i                          a shell with the same mounts, env and user
  ./build.py -p amd64 --print-docker-run -- make  print the equivalent `docker run` line
  ./build.py -p amd64 --source ~/src/zlib         any CMake project, nothing added to it
  ./build.py -p amd64 -e CMAKE_ARGS=-DFOO=ON      pass environment (values may contain '=')

exit codes: 0 success; a run's own exit status passes through; 2 bad command line;
  64 malformed -e; 65 invalid platform name; 66 unknown platform; 67 unknown runtime function;
  68 source dir missing; 69 engine unreachable; 70 base image unavailable; 71 image build
  failed; 72 image missing with --run-only; 73 build dir holds another platform's outputs;
  74 bad platform definition; 75 container could not be created or was lost; 76 build or
  ccache dir not writable; 77 emulation unavailable; 78 a mount would expose the Docker
  socket; 79 gave up waiting for a lock; 80 invalid release tag or image reference; 81 a
  registry refused a release push; 124 --timeout expired; 99 internal error;
  128+N killed by signal N.
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint="see ./build.py --help")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="build.py",
        description="Build and test a compiled project in per-platform containers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-p",
        "--platform",
        action="append",
        default=[],
        metavar="NAME[,NAME...]",
        help="platform(s) to run; repeatable or comma separated",
    )
    p.add_argument("-a", "--all", action="store_true", help="run every platform")
    p.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="platforms run at once (default: from cores and memory)"
    )
    p.add_argument("--fail-fast", action="store_true", help="when one platform fails, stop the others")
    p.add_argument(
        "--arch",
        metavar="ARCH",
        help="architecture the run executes on (e.g. arm64, linux/arm/v7); default: the platform's",
    )
    p.add_argument("-l", "--list", action="store_true", help="list the platforms, one per line")
    p.add_argument("-b", "--build-only", action="store_true", help="only make sure the image exists")
    p.add_argument(
        "-R",
        "--run-only",
        action="store_true",
        help="use the existing image; never build (fails if it is missing)",
    )
    p.add_argument("--no-cache", action="store_true", help="rebuild the image from scratch")
    p.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="open a shell (or run the command) interactively in the same container setup",
    )
    p.add_argument(
        "--print-docker-run",
        action="store_true",
        help="print the equivalent `docker run` line instead of running",
    )
    p.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an environment variable in the container; repeatable",
    )
    p.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="CMake source tree to build (default: xsum/ next to build.py)",
    )
    p.add_argument(
        "--writable-source", action="store_true", help="mount the source tree read-write (default: read-only)"
    )
    p.add_argument(
        "--build-dir",
        type=Path,
        metavar="DIR",
        help="build output dir (default: ./build, or ./build.<platform> for several)",
    )
    p.add_argument(
        "--ccache-dir",
        type=Path,
        metavar="DIR",
        help="ccache dir (default: $CCACHE_DIR, else ~/.cache/ciharness/ccache)",
    )
    p.add_argument(
        "--build-jobs",
        type=int,
        metavar="N",
        help="parallel compile jobs in the container (default: from cores and memory)",
    )
    p.add_argument(
        "--docker-dir",
        type=Path,
        metavar="DIR",
        default=REPO_ROOT / "docker",
        help="where Dockerfile.build.<platform> files live (default: docker/)",
    )
    p.add_argument(
        "--runtime-functions",
        type=Path,
        metavar="FILE",
        default=REPO_ROOT / "runtime_functions.sh",
        help="the script whose functions runs call (default: runtime_functions.sh)",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "docker", "podman"],
        default="auto",
        help="container engine (default auto: Docker when it is there, else podman)",
    )
    p.add_argument(
        "--docker-host",
        action="append",
        default=[],
        metavar="PLATFORM=URL",
        help="run PLATFORM on this engine (unix://, tcp://, ssh:// or context:NAME); repeatable",
    )
    p.add_argument(
        "--engines",
        type=Path,
        metavar="FILE",
        help="TOML file with an [engines] table of platform = URL ('*' for the rest)",
    )
    p.add_argument(
        "--release",
        metavar="TAG",
        help="after building and testing, build each platform's runtime image and push TAG-<arch>, "
        "then a manifest list TAG (needs --push)",
    )
    p.add_argument(
        "--push",
        metavar="REGISTRY/IMAGE[,...]",
        help="where --release pushes: one or more image references without a tag",
    )
    p.add_argument(
        "--ccache-max-size",
        default="10G",
        metavar="SIZE",
        help="cap of the ccache dir, e.g. 500M or 10G (default: 10G)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="remove this project's images whose content hash is no longer current, then exit",
    )
    p.add_argument(
        "--docker-registry",
        metavar="HOST[:PORT]",
        help="image cache: pull the content-hash tag from this registry before building",
    )
    p.add_argument(
        "--push-cache",
        action="store_true",
        help="push images built here to --docker-registry, for other machines",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="kill and remove a run's container after this long (exit 124)",
    )
    p.add_argument(
        "--cleanup",
        action="store_true",
        help="remove containers of runs whose build.py is gone, then exit",
    )
    p.add_argument(
        "--lock-timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how long to wait for another run's image build or build dir (default: 3600)",
    )
    p.add_argument("--debug", action="store_true", help="verbose logs and tracebacks")
    p.add_argument(
        "words",
        nargs="*",
        metavar="FUNCTION [ARG...]",
        help="runtime function and its arguments; or `-- COMMAND...` for any command",
    )
    return p


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    platforms: list[str]
    all: bool
    jobs: int | None
    fail_fast: bool
    arch: str | None
    list_platforms: bool
    build_only: bool
    run_only: bool
    no_cache: bool
    interactive: bool
    print_docker_run: bool
    env: list[str]
    source: Path | None
    writable_source: bool
    build_dir: Path | None
    ccache_dir: Path | None
    build_jobs: int | None
    docker_dir: Path
    runtime_functions: Path
    lock_timeout: float
    timeout: float | None
    cleanup: bool
    docker_registry: str | None
    push_cache: bool
    ccache_max_size: str
    prune: bool
    release: str | None
    push: str | None
    docker_host: list[str]
    engines: Path | None
    engine: str
    debug: bool
    words: list[str]
    raw: list[str]


def parse_args(argv: list[str]) -> Options:
    """Split at the first '--': before it options and a runtime function, after it a command."""
    if "--" in argv:
        cut = argv.index("--")
        before, raw = argv[:cut], argv[cut + 1 :]
        if not raw:
            raise UsageError("nothing after '--'", hint="give a command, e.g. -- make check")
    else:
        before, raw = argv, []
    ns = build_parser().parse_intermixed_args(before)
    platforms = [name.strip() for item in ns.platform for name in item.split(",") if name.strip()]
    if ns.build_only and ns.run_only:
        raise UsageError("-b/--build-only and -R/--run-only contradict each other")
    if ns.build_jobs is not None and ns.build_jobs < 1:
        raise UsageError(f"--build-jobs must be at least 1, not {ns.build_jobs}")
    if ns.jobs is not None and ns.jobs < 1:
        raise UsageError(f"-j/--jobs must be at least 1, not {ns.jobs}")
    if ns.all and platforms:
        raise UsageError("-a/--all and -p/--platform contradict each other")
    if ns.docker_registry is not None and not REGISTRY_RE.match(ns.docker_registry):
        raise UsageError(
            f"--docker-registry {ns.docker_registry!r} is not HOST or HOST:PORT",
            hint="for example --docker-registry 127.0.0.1:5000",
        )
    if not CCACHE_SIZE_RE.match(ns.ccache_max_size):
        raise UsageError(
            f"--ccache-max-size {ns.ccache_max_size!r} is not a size",
            hint="use a number with an optional K, M, G or T suffix, e.g. 500M or 10G",
        )
    if (ns.release is None) != (ns.push is None):
        raise UsageError("--release TAG and --push REGISTRY/IMAGE go together")
    if ns.release is not None and (ns.words or raw or ns.interactive or ns.build_only or ns.print_docker_run):
        raise UsageError(
            "--release runs the default build and test; no command, -i, -b or --print-docker-run"
        )
    if ns.push_cache and not ns.docker_registry:
        raise UsageError("--push-cache needs --docker-registry HOST[:PORT]")
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError(f"--timeout must be more than 0 seconds, not {ns.timeout:g}")
    if not ns.list and not ns.cleanup and not ns.prune and not platforms and not ns.all:
        raise UsageError("no platform given", hint="choose one with -p NAME; list them with ./build.py -l")
    return Options(
        platforms=platforms,
        all=ns.all,
        jobs=ns.jobs,
        fail_fast=ns.fail_fast,
        arch=ns.arch,
        list_platforms=ns.list,
        build_only=ns.build_only,
        run_only=ns.run_only,
        no_cache=ns.no_cache,
        interactive=ns.interactive,
        print_docker_run=ns.print_docker_run,
        env=ns.env,
        source=ns.source,
        writable_source=ns.writable_source,
        build_dir=ns.build_dir,
        ccache_dir=ns.ccache_dir,
        build_jobs=ns.build_jobs,
        docker_dir=ns.docker_dir,
        runtime_functions=ns.runtime_functions,
        lock_timeout=ns.lock_timeout,
        timeout=ns.timeout,
        cleanup=ns.cleanup,
        docker_registry=ns.docker_registry,
        push_cache=ns.push_cache,
        ccache_max_size=ns.ccache_max_size,
        prune=ns.prune,
        release=ns.release,
        push=ns.push,
        docker_host=ns.docker_host,
        engine=ns.engine,
        engines=ns.engines
        or (Path(os.environ["CI_ENGINES_FILE"]) if os.environ.get("CI_ENGINES_FILE") else None),
        debug=ns.debug,
        words=ns.words,
        raw=raw,
    )


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
        return run_cleanup(env)
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

    from ci.engine import Output, write_through  # noqa: PLC0415 (the SDK loads only when needed)

    runs_containers = not (opts.build_only or opts.print_docker_run)
    run_id = uuid.uuid4().hex[:12]
    me = psutil.Process()
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
        started = time.monotonic()
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
                runtime_functions=opts.runtime_functions.resolve(),
                user_env=user_env,
                uid=os.getuid(),
                gid=os.getgid(),
                run_id=run_id,
                owner_pid=me.pid,
                owner_start=me.create_time(),
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
                rootless=kind == "podman" and podman.rootless(),
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
                pool.ccache_volume(url, os.getuid(), os.getgid(), str(ref))
                inputs = transfer.pack_inputs(
                    source, opts.runtime_functions.resolve(), os.getuid(), os.getgid()
                )
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
            started_wall=time.time() - (time.monotonic() - started),
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
    from ci.engine import Engine  # noqa: PLC0415

    engine = Engine.connect(env.get("DOCKER_HOST") or None)
    removed = harness.prune_images(engine, known, docker_dir)
    print(f"removed {len(removed)} outdated image tag(s)" + (": " + ", ".join(removed) if removed else ""))
    return ExitCode.OK


def run_cleanup(env: Mapping[str, str]) -> int:
    from ci.engine import Engine  # noqa: PLC0415

    engine = Engine.connect(env.get("DOCKER_HOST") or None)
    removed = cleanup.reap_orphans(engine, cleanup.this_host())
    print(f"removed {len(removed)} orphaned container(s)" + (": " + ", ".join(removed) if removed else ""))
    return ExitCode.OK


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


def main(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    environ = os.environ if env is None else env
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    ci_log.setup(debug)
    try:
        opts = parse_args(argv)
        return run(opts, environ)
    except HarnessError as exc:
        # One line: what is wrong, and how to fix it.
        log.error("%s", f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message)
        if debug:
            log.exception("traceback")
        return int(exc.code)
    except harness.Interrupted as exc:
        log.error("interrupted by %s; containers removed", signal.Signals(exc.signum).name)
        return 128 + exc.signum
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place an unexpected error becomes an exit code
        if debug:
            log.exception("internal error: %s: %s", type(exc).__name__, exc)
        else:
            log.error(
                "internal error: %s: %s (hint: run again with --debug for a traceback, and report it)",
                type(exc).__name__,
                exc,
            )
        return int(ExitCode.INTERNAL)
