"""Decide what the command line asks for: argv (over the environment and the project file) -> one
typed, frozen Options (pure; no Docker, no I/O)."""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ci.errors import UsageError
from ci.settings import gpus, projectfile
from ci.settings.flags import build_parser
from ci.settings.projectfile import NO_PROJECT, ProjectFile
from ci.settings.resolve import resolve

# How a run sees its source tree: writable with its writes kept apart in the build dir (an
# overlay), writable in place, or read-only (settings.toml's choices of source-mode).
SourceMode = Literal["copy-on-write", "writable", "read-only"]

CCACHE_SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]?i?$")
REGISTRY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """Every setting as resolved, one field per row of settings.toml (named as the row, with
    '_' for '-'), and the command: built once, then carried whole (Invocation.settings)."""

    platforms: list[str]  # comma-separated items split
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
    native_packages: bool  # False: --no-native-packages
    interactive: bool
    print_docker_run: bool
    timeout: float | None
    lock_timeout: float
    env: list[str]
    source: Path
    build_system: str  # auto, or a name of ci.buildsystems.ALL
    tests: bool  # False: the project defines none (--no-tests)
    test_jobs: int | None  # None: as the project's own test command runs them
    retries: int  # failed tests run again up to this many more times
    variants: list[str]  # the project file's [variant.<name>] tables to run, or all (checked in planning)
    compiler: str  # gcc, clang, gcc-N, clang-N (checked while planning: ci.planning.toolchains)
    sanitize: list[str]
    build_type: str  # '': the build system's default
    coverage: bool  # --coverage: instrumented build, gcovr after the tests
    project_file: Path | None
    source_mode: SourceMode  # --writable-source folded in
    writable_source: bool
    build_dir: Path | None
    report: str  # the HTML report's file, or "none" (ci.output.report.report_path)
    build_jobs: int | None
    docker_dir: Path
    runtime_functions: Path
    packages: list[str]
    build_packages: list[str]
    pre_build: list[str]
    bootstrap: str  # autotools: the command that writes configure ('' : the step's own choice)
    quarantine: list[str]  # tests whose failures do not fail the run (names or shell patterns)
    configure_args: list[str]
    test_args: list[str]
    environment: dict[str, str]
    ccache_dir: Path | None
    ccache_remote: str  # as given; checked while planning (ci.planning.ccache_remote)
    ccache_max_size: str
    engine: str
    gpus: gpus.Gpus | None
    docker_host: list[str]
    engines: Path | None
    docker_registry: str | None
    push_cache: bool
    insecure_engines: str
    ssh_config: str | None
    insecure_registries: str
    debian_mirror: str
    release: str | None
    no_manifest: bool
    manifest: str | None
    push: str | None
    prune: bool
    cleanup: bool
    debug: bool
    words: list[str]  # a runtime function and its arguments
    raw: list[str]  # the command after '--'
    project: ProjectFile = NO_PROJECT  # the project file as read (its [platform.<name>] tables too)
    pinned: frozenset[str] = frozenset()  # settings the environment or command line set


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(options and a runtime function, the command after the first '--')."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    if cut == len(argv) - 1:
        raise UsageError("nothing after '--'", hint="give a command, e.g. -- make check")
    return argv[:cut], argv[cut + 1 :]


def read_options(argv: list[str], env: Mapping[str, str]) -> Options:
    """The options of a command line, with the project file of its source tree (or the one
    --project-file names) read under the environment and the command line: the one file read."""
    before, raw = split_argv(argv)
    ns = build_parser().parse_intermixed_args(before)
    values = resolve(ns, env=env).values
    found = projectfile.locate(Path(str(values["source"])), values["project_file"])  # type: ignore[arg-type]
    return options_from(ns, raw, env, projectfile.load(found))


def parse_args(
    argv: list[str], env: Mapping[str, str] | None = None, project: ProjectFile = NO_PROJECT
) -> Options:
    """Split at the first '--': before it options and a runtime function, after it a command.
    The values come from ci.settings.resolve: the project file's top level under env (None: an
    empty one) under the command line."""
    before, raw = split_argv(argv)
    return options_from(build_parser().parse_intermixed_args(before), raw, env or {}, project)


def options_from(
    ns: argparse.Namespace, raw: list[str], env: Mapping[str, str], project: ProjectFile
) -> Options:
    """The parsed command line (ns) over env and the project file, checked, as one Options."""
    resolved = resolve(ns, env=env, project=project.top)
    checked = resolved.namespace()
    checked.words = ns.words
    if checked.all and resolved.layers["platforms"] == "project":
        checked.platforms = []  # -a runs every platform, not the project's list
    platforms = [name.strip() for item in checked.platforms for name in item.split(",") if name.strip()]
    check_combinations(checked, platforms, raw, given=resolved.given)
    values: dict[str, Any] = dict(resolved.values)  # typed by the table (tests/unit/test_settings.py)
    values.update(
        platforms=platforms,
        source_mode="writable" if checked.writable_source else checked.source_mode,
        gpus=parse_gpus(checked.gpus),
    )
    return Options(**values, words=ns.words, raw=raw, project=project, pinned=resolved.pinned)


def check_combinations(
    ns: argparse.Namespace, platforms: list[str], raw: list[str], given: frozenset[str] = frozenset()
) -> None:
    """Flags that contradict each other, or values no run could use (ns: every setting's value;
    given: the names of those set above their defaults)."""
    if ns.writable_source and "source-mode" in given and ns.source_mode != "writable":
        raise UsageError(f"--writable-source and --source-mode {ns.source_mode} contradict each other")
    if ns.build_only and ns.run_only:
        raise UsageError("-b/--build-only and -R/--run-only contradict each other")
    if ns.build_jobs is not None and ns.build_jobs < 1:
        raise UsageError(f"--build-jobs must be at least 1, not {ns.build_jobs}")
    if ns.test_jobs is not None and ns.test_jobs < 1:
        raise UsageError(f"--test-jobs must be at least 1, not {ns.test_jobs}")
    if ns.retries is not None and ns.retries < 0:
        raise UsageError(f"--retries must be 0 or more, not {ns.retries}")
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
    if ns.list_json and (ns.words or raw or ns.interactive or ns.release or ns.manifest or ns.list_platforms):
        raise UsageError("--list-json only prints the platforms; no command, -i, -l, --release or --manifest")
    if not (
        ns.list_platforms or ns.list_json or ns.list_gpus or ns.cleanup or ns.prune or platforms or ns.all
    ):
        raise UsageError(
            "no platform given",
            hint="choose one with -p NAME, or name them under `platforms` in the project's "
            "ciharness.toml; list them with ./build.py -l",
        )


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
        ns.words
        or raw
        or ns.interactive
        or ns.build_only
        or ns.run_only
        or ns.print_docker_run
        or ns.list_platforms
    ):
        raise UsageError(
            "--manifest only joins images already pushed; no command, -i, -b, -R, -l or --print-docker-run"
        )


def parse_gpus(value: str | None) -> gpus.Gpus | None:
    try:
        return None if value is None else gpus.parse(value)
    except ValueError as exc:
        raise UsageError(f"--gpus {exc}", hint="e.g. --gpus all, --gpus 2, --gpus device=0,1") from exc
