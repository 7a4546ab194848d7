"""Decide what the command line asks for: argv -> a typed Options (pure; no Docker, no I/O)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

from ci import REPO_ROOT
from ci.errors import UsageError
from ci.planning import gpus
from ci.planning.runspec import SourceMode
from ci.settings.flags import build_parser

__all__ = ["REPO_ROOT", "Options", "parse_args"]

CCACHE_SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]?i?$")
REGISTRY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    platforms: list[str]
    all: bool
    jobs: int | None
    fail_fast: bool
    progress: str
    arch: str | None
    list_platforms: bool
    list_json: bool
    list_gpus: bool
    build_only: bool
    run_only: bool
    no_cache: bool
    interactive: bool
    print_docker_run: bool
    env: list[str]
    source: Path | None
    writable_source: bool
    source_mode: SourceMode
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
    ccache_remote: str | None
    prune: bool
    release: str | None
    no_manifest: bool
    manifest: str | None
    push: str | None
    docker_host: list[str]
    engines: Path | None
    engine: str
    gpus: gpus.Gpus | None
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
    check_combinations(ns, platforms, raw)
    return Options(
        platforms=platforms,
        all=ns.all,
        jobs=ns.jobs,
        fail_fast=ns.fail_fast,
        progress=ns.progress,
        arch=ns.arch,
        list_platforms=ns.list,
        list_json=ns.list_json,
        list_gpus=ns.list_gpus,
        build_only=ns.build_only,
        run_only=ns.run_only,
        no_cache=ns.no_cache,
        interactive=ns.interactive,
        print_docker_run=ns.print_docker_run,
        env=ns.env,
        source=ns.source,
        writable_source=ns.writable_source,
        source_mode="writable" if ns.writable_source else ns.source_mode or "copy-on-write",
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
        ccache_remote=ns.ccache_remote,
        prune=ns.prune,
        release=ns.release,
        no_manifest=ns.no_manifest,
        manifest=ns.manifest,
        push=ns.push,
        docker_host=ns.docker_host,
        engine=ns.engine,
        gpus=parse_gpus(ns.gpus),
        engines=ns.engines
        or (Path(os.environ["CI_ENGINES_FILE"]) if os.environ.get("CI_ENGINES_FILE") else None),
        debug=ns.debug,
        words=ns.words,
        raw=raw,
    )


def check_combinations(ns: argparse.Namespace, platforms: list[str], raw: list[str]) -> None:
    """Flags that contradict each other, or values no run could use."""
    if ns.writable_source and ns.source_mode not in (None, "writable"):
        raise UsageError(f"--writable-source and --source-mode {ns.source_mode} contradict each other")
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
    check_release(ns, raw)
    if ns.push_cache and not ns.docker_registry:
        raise UsageError("--push-cache needs --docker-registry HOST[:PORT]")
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError(f"--timeout must be more than 0 seconds, not {ns.timeout:g}")
    if ns.list_json and (ns.words or raw or ns.interactive or ns.release or ns.manifest or ns.list):
        raise UsageError("--list-json only prints the platforms; no command, -i, -l, --release or --manifest")
    if not (ns.list or ns.list_json or ns.list_gpus or ns.cleanup or ns.prune or platforms or ns.all):
        raise UsageError("no platform given", hint="choose one with -p NAME; list them with ./build.py -l")


def check_release(ns: argparse.Namespace, raw: list[str]) -> None:
    """--release (build, test, push TAG-<arch>, maybe the list) and --manifest (only the list)."""
    if ns.release is not None and ns.manifest is not None:
        raise UsageError(
            "--release and --manifest contradict each other",
            hint="release each machine's platforms with --release TAG --no-manifest, "
            "then join them with --manifest TAG",
        )
    if (ns.release is None and ns.manifest is None) != (ns.push is None):
        raise UsageError("--release TAG (or --manifest TAG) and --push REGISTRY/IMAGE go together")
    if ns.release is not None and (ns.words or raw or ns.interactive or ns.build_only or ns.print_docker_run):
        raise UsageError(
            "--release runs the default build and test; no command, -i, -b or --print-docker-run"
        )
    if ns.no_manifest and ns.release is None:
        raise UsageError("--no-manifest goes with --release TAG")
    if ns.manifest is not None and (
        ns.words or raw or ns.interactive or ns.build_only or ns.run_only or ns.print_docker_run or ns.list
    ):
        raise UsageError(
            "--manifest only joins images already pushed; no command, -i, -b, -R, -l or --print-docker-run"
        )


def parse_gpus(value: str | None) -> gpus.Gpus | None:
    try:
        return None if value is None else gpus.parse(value)
    except ValueError as exc:
        raise UsageError(f"--gpus {exc}", hint="e.g. --gpus all, --gpus 2, --gpus device=0,1") from exc
