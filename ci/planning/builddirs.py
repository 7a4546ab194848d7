"""Decide where each platform's build dir is and whether it may be used (ci.running.hostdirs
creates them)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from ci.errors import BuildDirConflictError, DockerSocketMountError
from ci.planning.platforms import Platform

BUILD_DIR_STAMP = ".ciharness-platform"
BUILD_LOG = "build.log"  # a run's complete output, written on this machine (never copied back)


def build_dir_for(
    build_dir: Path | None,
    platform: Platform,
    cwd: Path,
    several: bool,
    toolchain: str = "",
    *,
    variant: str = "",
) -> Path:
    """build.<platform> under cwd (build.<platform>.<toolchain>: another compiler, sanitizers or
    build type, ci.planning.toolchains.Toolchain.label) unless --build-dir names one
    (DIR.<platform>[.<variant>] for several), so switching platforms never meets another platform's outputs,
    nor one toolchain another's objects."""
    if build_dir is not None:
        base = build_dir if build_dir.is_absolute() else cwd / build_dir
        job = ".".join(part for part in (platform.name, variant) if part)
        return base.parent / f"{base.name}.{job}" if several else base
    return cwd / ".".join(part for part in ("build", platform.name, toolchain) if part)


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


def lock_name(build_dir: Path) -> str:
    return "build-dir-" + hashlib.sha256(str(build_dir).encode()).hexdigest()[:16]


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
