"""Plain helpers the unit tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ci.planning import runspec
from ci.planning.invocation import Invocation, plan_invocation
from ci.planning.platforms import Platform
from ci.planning.projectsettings import PlatformProject
from ci.planning.runspec import ImageRef, RunInputs, RunSettings
from ci.settings.host import Host
from ci.settings.options import parse_args, read_options

SHARED_FIELDS = {f.name for f in dataclasses.fields(RunSettings)}
HOST_FIELDS = {
    "uid": "uid",
    "gid": "gid",
    "owner_pid": "pid",
    "owner_start": "start_time",
    "owner_host": "name",
}


def inputs(**changes: object) -> RunInputs:
    """A run's inputs; changes name a field of RunInputs, of its RunSettings, a setting
    (ccache_max_size), a host fact (uid, gid, owner_pid, owner_start, owner_host) or tty."""
    host = Host(
        machine="x86_64", cpus=8, available_memory=8 << 30, uid=1234, gid=5678, euid=1234, pid=4242,
        start_time=1700000000.123456, name="host1", cwd=Path("/home/u"), home=Path("/home/u"),
        stdin_tty=bool(changes.pop("tty", False)),
    )  # fmt: skip
    facts: dict[str, Any] = {HOST_FIELDS[k]: changes.pop(k) for k in list(changes) if k in HOST_FIELDS}
    host = dataclasses.replace(host, **facts)
    settings = parse_args(["-p", "armv7"])
    if "ccache_max_size" in changes:
        settings = dataclasses.replace(settings, ccache_max_size=str(changes.pop("ccache_max_size")))
    shared = RunSettings(
        settings=settings,
        host=host,
        source_dir=Path("/home/u/src"),
        ccache_dir=Path("/home/u/.cache/ccache"),
        runtime_functions=Path("/repo/runtime_functions.sh"),
        user_env={},
        jobs=6,
        run_id="abc123def456",
    )
    shared_changes = {k: changes.pop(k) for k in list(changes) if k in SHARED_FIELDS}
    shared = dataclasses.replace(shared, **shared_changes)  # type: ignore[arg-type]
    base = RunInputs(
        shared=shared,
        platform=Platform(name="armv7", dockerfile=Path("/d/Dockerfile.build.armv7"), target="linux/arm/v7"),
        image=ImageRef(repository="ciharness/armv7", tag="0123456789abcdef"),
        command=("/work/runtime_functions.sh", "build_generic"),
        project=PlatformProject(build=None, tests=True, test_jobs=None),
        build_dir=Path("/home/u/build"),
        source_mode="read-only",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# -- planning a whole invocation (test_invocation, test_buildsystem) ---------------------------

GiB = 1 << 30


def host(tmp_path: Path, **overrides: object) -> Host:
    facts: dict[str, object] = {
        "machine": "x86_64",
        "cpus": 8,
        "available_memory": 6 * GiB,
        "uid": 1234,
        "gid": 2345,
        "euid": 1234,
        "pid": 4242,
        "start_time": 1700000000.5,
        "name": "agent-7",
        "cwd": tmp_path / "cwd",
        "home": tmp_path / "home",
        "stdin_tty": False,
    }
    facts.update(overrides)
    return Host(**facts)  # type: ignore[arg-type]


def plan(project: Path, *argv: str, env: dict[str, str] | None = None, **facts: object) -> Invocation:
    full = [
        *argv,
        *(
            "--docker-dir",
            str(project / "docker"),
            "--runtime-functions",
            str(project / "runtime_functions.sh"),
        ),
        *("--source", str(project / "src"), "--ccache-dir", str(project / "ccache")),
    ]
    return plan_invocation(read_options(full, env or {}), env or {}, host(project, **facts))


def shared(inv: Invocation) -> runspec.RunSettings:
    assert inv.run is not None
    return inv.run


def dpkg_status(root: Path, *entries: str) -> None:
    """A root's dpkg status file holding these entries (each `Package: ...` lines)."""
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text("\n".join(entries))
