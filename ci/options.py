"""Decide what the command line asks for: argv -> a typed Options (pure; no Docker, no I/O)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

from ci.errors import (
    UsageError,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
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
        help="remove containers of runs whose build.py is gone (on every named engine), then exit",
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
