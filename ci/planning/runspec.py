"""Decide everything about a run without touching Docker: image tags (first), then a run's mounts,
env and labels.

The RunSpec built here is what ci.engine.client executes and what --print-docker-run prints, so the
two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from ci import buildsystems
from ci.errors import BadEnvError, PlatformDefinitionError
from ci.planning import ccache_remote, emulation, quirks, testjobs, ways
from ci.planning.dockerfile import copied_sources
from ci.planning.functions import SCRIPT_IN_CONTAINER
from ci.planning.platforms import Platform
from ci.planning.projectsettings import PlatformProject
from ci.settings import table
from ci.settings.gpus import NO_GPUS, Gpus
from ci.settings.host import Host
from ci.settings.options import Options, SourceMode

__all__ = ["SourceMode"]  # how a run sees its source tree (ci.settings.options, the setting's choices)

# Bump when the way images are built changes, so every content-hash tag changes with it.
IMAGE_SCHEMA = "1"
IMAGE_REPOSITORY_PREFIX = "ciharness/"
LABEL_PREFIX = "io.ciharness."

SOURCE_IN_CONTAINER = "/work/src"
BUILD_IN_CONTAINER = "/work/build"
CCACHE_IN_CONTAINER = "/work/ccache"
# The build systems' step files, beside the runtime functions script, which sources them.
STEPS_IN_CONTAINER = "/work/ci/buildsystems"
# Per-run ccache statistics (CCACHE_STATSLOG), in the build dir: the cache's own counters are
# shared by every concurrent run and so say nothing about one run.
CCACHE_STATS_LOG = ".ciharness-ccache-stats.log"
# ccache's own log (CCACHE_LOGFILE), in the build dir, when a remote storage is set: the stats
# log counts a failing remote, only this log says why (ci.output.ccachelog reads it).
CCACHE_LOG = ".ciharness-ccache.log"
# The ccache of runs on a remote engine: a volume there, shared by every run on that engine.
CCACHE_VOLUME = "ciharness-ccache"
# A copy-on-write source's writes, in its build dir (see source_layers).
SOURCE_CHANGES_DIR = ".ciharness-source"


def _context_files(context: Path, pattern: str, dockerfile: Path) -> list[Path]:
    if re.match(r"^[a-z]+://", pattern):
        return []
    base = context.resolve()
    matches = (
        sorted(base.glob(pattern.lstrip("/")))
        if any(c in pattern for c in "*?[")
        else [base / pattern.lstrip("/")]
    )
    files: list[Path] = []
    for match in matches:
        resolved = match.resolve()
        if base not in (resolved, *resolved.parents):
            raise PlatformDefinitionError(f"{dockerfile}: COPY/ADD source {pattern!r} is outside {context}")
        if resolved.is_dir():
            files.extend(p for p in sorted(resolved.rglob("*")) if p.is_file())
        elif resolved.is_file():
            files.append(resolved)
        else:
            raise PlatformDefinitionError(
                f"{dockerfile}: COPY/ADD source {pattern!r} does not exist in {context}"
            )
    return files


def content_hash(platform: Platform, context: Path) -> str:
    """sha256 over the Dockerfile, every file it COPYs or ADDs, and the platform it targets."""
    text = platform.dockerfile.read_text(encoding="utf-8")
    digest = hashlib.sha256()
    digest.update(f"schema {IMAGE_SCHEMA}\nplatform {platform.docker_platform}\n".encode())
    digest.update(b"dockerfile\n" + text.encode() + b"\n")
    base = context.resolve()
    for pattern in copied_sources(text):
        digest.update(f"source {pattern}\n".encode())
        for path in _context_files(context, pattern, platform.dockerfile):
            rel = path.relative_to(base).as_posix()
            mode = "x" if path.stat().st_mode & 0o111 else "-"
            digest.update(f"file {rel} {mode} {path.stat().st_size}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageRef:
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag}"


def image_ref(platform: Platform, context: Path) -> ImageRef:
    """<content hash>-native or -cross (a cross toolchain's): an arm64 engine's, an amd64's apart."""
    return ImageRef(
        repository=IMAGE_REPOSITORY_PREFIX + platform.name,
        tag=f"{content_hash(platform, context)[:16]}-{ways.image_kind(platform)}",
    )


def image_labels(platform: Platform, ref: ImageRef) -> dict[str, str]:
    return {
        LABEL_PREFIX + "platform": platform.name,
        LABEL_PREFIX + "content-hash": ref.tag,
        LABEL_PREFIX + "docker-platform": platform.docker_platform,
    }


def parse_env(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs from -e; the value may itself contain '='."""
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not table.ENV_NAME_RE.match(name):
            raise BadEnvError(
                f"malformed -e {pair!r}: expected NAME=VALUE with NAME made of letters, digits "
                "and '_', not starting with a digit",
                hint="for example: -e CMAKE_ARGS=-DFOO=ON",
            )
        env[name] = value
    return env


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mount:
    source: Path | str  # a host path, or the name of a volume on the engine
    target: str
    read_only: bool = False
    # Copy-on-write: source is an overlay's lower layer; writes land in upper (work is the
    # overlay's scratch dir, on the same file system).
    upper: Path | None = None
    work: Path | None = None

    def flag(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")

    def overlay_options(self) -> str:
        return f"lowerdir={self.source},upperdir={self.upper},workdir={self.work}"

    def cli_args(self, program: str) -> list[str]:
        """The `docker run` / `podman run` arguments that make this mount."""
        if self.upper is None:
            return ["--volume", self.flag()]
        if program == "podman":  # podman's own overlay bind mounts
            return ["--volume", f"{self.source}:{self.target}:O,upperdir={self.upper},workdir={self.work}"]
        # Docker: an anonymous volume of the local driver, made for the container (and removed
        # with it by --rm); the o= field holds commas, so it is quoted for --mount's CSV syntax.
        return [
            "--mount",
            f"type=volume,dst={self.target},volume-driver=local,volume-opt=type=overlay,"
            f'volume-opt=device=overlay,"volume-opt=o={self.overlay_options()}"',
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One container run, complete: what the engine executes and what gets printed."""

    platform: str
    image: str
    docker_platform: str
    command: tuple[str, ...]
    name: str
    user: str
    workdir: str
    mounts: tuple[Mount, ...]
    env: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    interactive: bool = False
    tty: bool = False
    privileged: bool = False
    program: str = "docker"  # the CLI whose `run` this spec is: docker or podman
    ulimits: tuple[tuple[str, int, int], ...] = ()
    userns: str = ""
    network: str = ""
    extra_hosts: tuple[tuple[str, str], ...] = ()  # (name, address or "host-gateway")
    gpus: Gpus = NO_GPUS


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSettings:
    """What shapes every container of one invocation, decided once (ci.planning.invocation) and
    carried whole: the settings as resolved, the host's facts, and the values planned from them."""

    settings: Options  # e.g. ccache-max-size, read where it is used
    host: Host  # the user the container runs as, and the owner its labels name
    source_dir: Path
    ccache_dir: Path
    runtime_functions: Path
    user_env: Mapping[str, str]
    jobs: int
    run_id: str
    passthrough_env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    ccache_remote: str = ""  # CCACHE_REMOTE_STORAGE (checked by ci.planning.ccache_remote); '' for none
    engine_kind: str = "docker"
    interactive: bool = False

    @property
    def tty(self) -> bool:
        return self.interactive and self.host.stdin_tty

    @property
    def rootless(self) -> bool:
        return self.engine_kind == "podman" and self.host.euid != 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunInputs:
    """One platform's run on its engine: the invocation's RunSettings and what is the run's own;
    plan_run turns it into a RunSpec."""

    shared: RunSettings
    platform: Platform
    image: ImageRef
    command: tuple[str, ...]
    project: PlatformProject  # the platform's project settings (build system, arguments, variables)
    build_dir: Path
    source_mode: SourceMode  # the setting's, unless the engine cannot make the overlay
    emulated: bool = False
    qemu_cpu: str | None = None  # QEMU_CPU for QEMU in the container (ci.planning.emulation.qemu_cpu)
    # On a remote engine nothing of this machine can be mounted: sources are copied in, results
    # out, and ccache lives in a volume on that engine.
    transfer: bool = False
    engine_limits: Mapping[str, int] = dataclasses.field(default_factory=dict)
    gpus: Gpus = NO_GPUS  # the run's: the platform's `# ci.gpus:` unless --gpus overrides it
    variant: str = ""  # the project file's [variant.<name>] it builds
    job: str = ""  # ci.planning.platformrun.PlatformRun.job: CI_PLATFORM (JUnit suites ctest.amd64.asan)


def owner_labels(host_name: str, pid: int, start_time: float) -> dict[str, str]:
    """The labels naming a container's owner process (ci.running.cleanup reaps it once that is gone)."""
    return {
        LABEL_PREFIX + "owner-host": host_name,
        LABEL_PREFIX + "owner-pid": str(pid),
        LABEL_PREFIX + "owner-start": f"{start_time:.2f}",
    }


# Names whose values are never printed (logs, --print-docker-run).
SECRET_RE = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL", re.IGNORECASE)


def is_secret(name: str) -> bool:
    return bool(SECRET_RE.search(name))


def hidden(name: str, value: str) -> bool:
    """Whether a variable's value must never be printed: a secret-looking name, or a ccache
    remote storage URL with a password in it."""
    return is_secret(name) or (name == ccache_remote.ENV_NAME and ccache_remote.has_secret(value))


def run_env(inputs: RunInputs) -> dict[str, str]:
    """The container's environment: ours (QEMU_CPU where the run's QEMU is told a CPU), then the
    project's, the Jenkins variables passed through, then -e's; ccache's log goes into the build
    dir whenever a remote storage is set (see CCACHE_LOG)."""
    platform, shared = inputs.platform, inputs.shared
    env: dict[str, str] = {
        "HOME": "/tmp",
        "CCACHE_DIR": CCACHE_IN_CONTAINER,
        "CCACHE_TEMPDIR": "/tmp/ccache-tmp",
        "CCACHE_MAXSIZE": shared.settings.ccache_max_size,
        "CCACHE_STATSLOG": f"{BUILD_IN_CONTAINER}/{CCACHE_STATS_LOG}",
        "CI_PLATFORM": inputs.job or platform.name,
        "CI_VARIANT": inputs.variant,
        "CI_TARGET_PLATFORM": platform.target,
        "CI_EMULATED": "1" if inputs.emulated else "0",
        "CI_SOURCE_DIR": SOURCE_IN_CONTAINER,
        "CI_BUILD_DIR": BUILD_IN_CONTAINER,
        "CI_JOBS": str(shared.jobs),
        "CI_RUN_ID": shared.run_id,
        "CI_GPUS": inputs.gpus.env_value(),
        **testjobs.env(inputs.project.test_jobs, emulated=inputs.emulated, jobs=shared.jobs),
    }
    if inputs.qemu_cpu:
        env[emulation.QEMU_CPU] = inputs.qemu_cpu
    env.update(inputs.project.env())
    if shared.ccache_remote:
        env[ccache_remote.ENV_NAME] = shared.ccache_remote
    env.update(shared.passthrough_env)
    env.update(shared.user_env)
    if env.get(ccache_remote.ENV_NAME) and "CCACHE_LOGFILE" not in env:
        env["CCACHE_LOGFILE"] = f"{BUILD_IN_CONTAINER}/{CCACHE_LOG}"
    return env


def plan_run(inputs: RunInputs) -> RunSpec:
    platform, shared, host = inputs.platform, inputs.shared, inputs.shared.host
    job = inputs.job or platform.name
    env = run_env(inputs)
    labels = {
        **owner_labels(host.name, host.pid, host.start_time),
        LABEL_PREFIX + "run-id": shared.run_id,
        LABEL_PREFIX + "platform": platform.name,
    }
    mounts: tuple[Mount, ...]
    if inputs.transfer:
        mounts = (Mount(source=CCACHE_VOLUME, target=CCACHE_IN_CONTAINER),)
    else:
        mounts = (
            source_mount(shared.source_dir, inputs.build_dir, inputs.source_mode),
            Mount(source=inputs.build_dir, target=BUILD_IN_CONTAINER),
            Mount(source=shared.ccache_dir, target=CCACHE_IN_CONTAINER),
            Mount(source=shared.runtime_functions, target=SCRIPT_IN_CONTAINER, read_only=True),
            Mount(source=buildsystems.STEPS_DIR, target=STEPS_IN_CONTAINER, read_only=True),
        )
    return RunSpec(
        platform=job,
        image=str(inputs.image),
        docker_platform=platform.docker_platform,
        command=inputs.command,
        name=f"ciharness-{job}-{shared.run_id}",
        user=f"{host.uid}:{host.gid}",
        workdir=BUILD_IN_CONTAINER,
        mounts=mounts,
        env=tuple(env.items()),
        labels=tuple(sorted(labels.items())),
        interactive=shared.interactive,
        tty=shared.tty,
        privileged=platform.privileged,
        extra_hosts=ccache_remote.extra_hosts(env.get(ccache_remote.ENV_NAME, ""), shared.engine_kind),
        gpus=inputs.gpus,
        **quirks.engine_quirks(shared.engine_kind, inputs.engine_limits, shared.rootless),
    )


def source_layers(build_dir: Path) -> tuple[Path, Path]:
    """Where a copy-on-write source keeps its writes (the overlay's upper dir) and the
    overlay's scratch dir: inside the build dir, so they live and go with it."""
    base = build_dir / SOURCE_CHANGES_DIR
    return base / "changes", base / "work"


def source_mount(source_dir: Path, build_dir: Path, mode: SourceMode) -> Mount:
    if mode == "copy-on-write":
        upper, work = source_layers(build_dir)
        return Mount(source=source_dir, target=SOURCE_IN_CONTAINER, upper=upper, work=work)
    return Mount(source=source_dir, target=SOURCE_IN_CONTAINER, read_only=mode == "read-only")
