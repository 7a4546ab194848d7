"""Figures of a run's life: how fast no container is left after a signal (R), build.py's overhead
over a plain docker run (P1, P4), a project's image found again (P11)."""

from __future__ import annotations

import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import BUILD_PY, REPO, Figure, build_py, median_of, our_containers


def seconds_to_no_container(sig: signal.Signals, work: Path) -> float:
    proc = subprocess.Popen(
        [
            BUILD_PY,
            "-p",
            "amd64",
            "--build-dir",
            str(work / "sig"),
            "--",
            "sleep",
            "60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not our_containers(proc.pid):
        if time.monotonic() > deadline:
            raise SystemExit("bench: the run's container never appeared")
        time.sleep(0.05)
    time.sleep(0.3)
    started = time.monotonic()
    proc.send_signal(sig)
    while our_containers(proc.pid):
        time.sleep(0.02)
    seconds = time.monotonic() - started
    proc.wait()
    return seconds


def signals(repeat: int, work: Path) -> list[Figure]:
    build_py("-p", "amd64", "-b")
    term = median_of(max(repeat, 5), lambda: seconds_to_no_container(signal.SIGTERM, work))
    kill = median_of(max(repeat, 5), lambda: seconds_to_no_container(signal.SIGKILL, work))
    return [
        Figure(name="R1", what="SIGTERM to build.py -> no container left (median)", value=term, unit=" s",
               target="< 1.5", met=term < 1.5, detail={"seconds": term}),
        Figure(name="R2", what="SIGKILL of build.py -> no container left (median)", value=kill, unit=" s",
               target="< 5", met=kill < 5, detail={"seconds": kill}),
    ]  # fmt: skip


STEP_LINES = {
    "loaded_s": "started; Python and the harness's modules loaded",
    "engine_s": "engine reached, orphans reaped",
    "created_s": "container .* created",
    "exited_s": "container exited",
    "removed_s": "container removed",
}


def startup_profile(repeat: int, build_dir: Path) -> dict[str, float]:
    """Where a run's time goes: medians of --debug's time-since-start stamps at each step, and
    the whole run's CPU time (user + system) beside the process's wall time."""
    found: dict[str, list[float]] = {key: [] for key in STEP_LINES}
    found["cpu_s"], found["wall_s"] = [], []
    for _ in range(repeat):
        before = os.times()
        started = time.monotonic()
        proc = subprocess.run(
            [BUILD_PY, "-p", "amd64", "--build-dir", str(build_dir), "--debug",
             "--", "true"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        found["wall_s"].append(time.monotonic() - started)
        after = os.times()
        found["cpu_s"].append(
            after.children_user - before.children_user + after.children_system - before.children_system
        )
        for key, words in STEP_LINES.items():
            stamp = re.search(rf"build\.py: +([0-9.]+)s DEBUG: (amd64: )?{words}", proc.stderr)
            if stamp:
                found[key].append(float(stamp.group(1)))
    return {key: statistics.median(values) for key, values in found.items() if values}


def overhead(repeat: int, work: Path) -> list[Figure]:
    image = subprocess.run(
        [BUILD_PY, "-p", "amd64", "-b"], capture_output=True, text=True, check=True
    ).stdout.strip()
    build_dir = work / "p1"

    def raw() -> float:
        started = time.monotonic()
        subprocess.run(["docker", "run", "--rm", image, "true"], check=True, capture_output=True)
        return time.monotonic() - started

    # Interleaved, so a machine whose load changes meanwhile weighs on both sides alike.
    pairs = [
        (build_py("-p", "amd64", "--build-dir", str(build_dir), "--", "true"), raw())
        for _ in range(max(repeat, 5))
    ]
    harness = statistics.median(h for h, _ in pairs)
    plain = statistics.median(r for _, r in pairs)
    steps = startup_profile(max(repeat, 5), build_dir)

    sys.path.insert(0, str(REPO))
    from ci.engine.client import Engine  # noqa: PLC0415
    from ci.images import provide  # noqa: PLC0415
    from ci.planning import endpoints, imagerequest, runspec  # noqa: PLC0415
    from ci.planning.platforms import discover, host_docker_platform  # noqa: PLC0415
    from ci.settings import table  # noqa: PLC0415

    engine = Engine.connect(endpoints.default_endpoint(os.environ, Path.home() / ".docker"))
    amd64 = discover(REPO / "docker")["amd64"]
    mirror = str(table.by_name("debian-mirror").value_default)

    def resolve() -> float:
        started = time.monotonic()
        ref = runspec.image_ref(amd64, REPO / "docker")
        request = imagerequest.ImageRequest(lock_timeout=10, debian_mirror=mirror)
        provide.ensure_image(
            engine,
            amd64,
            ref,
            REPO / "docker",
            request,
            host_platform=host_docker_platform(platform.machine()),
        )
        return time.monotonic() - started

    resolution = median_of(max(repeat, 5), resolve)
    return [
        Figure(name="P1", what="build.py -- true, minus raw docker run --rm IMAGE true (median)",
               value=harness - plain, unit=" s", target="<= 0.15", met=harness - plain <= 0.15,
               detail={"build_py_s": harness, "docker_run_s": plain, **steps}),
        Figure(name="P4", what="unchanged rerun resolves its image, no docker build (median)",
               value=resolution, unit=" s", target="< 0.2", met=resolution < 0.2,
               detail={"seconds": resolution}),
    ]  # fmt: skip


def project_image_rerun(repeat: int, work: Path) -> list[Figure]:
    """P11: a project whose ciharness.toml adds packages, rerun unchanged: its project image is
    found (the project file read, its hash made, both images looked up), never built."""
    src = work / "p11-src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "CMakeLists.txt").write_text("project(p C)\n", encoding="utf-8")
    (src / "ciharness.toml").write_text(
        'packages = ["zlib1g-dev"]\nbuild-packages = ["bc"]\n', encoding="utf-8"
    )
    build_py("-p", "amd64", "--source", str(src), "--build-dir", str(work / "p11-warm"), "-b")  # made once

    sys.path.insert(0, str(REPO))
    from ci.engine.client import Engine  # noqa: PLC0415
    from ci.images import projectbuild  # noqa: PLC0415
    from ci.planning import endpoints, invocation  # noqa: PLC0415
    from ci.settings.host import Host  # noqa: PLC0415
    from ci.settings.options import read_options  # noqa: PLC0415

    engine = Engine.connect(endpoints.default_endpoint(os.environ, Path.home() / ".docker"))

    def resolve(source: Path) -> float:
        started = time.monotonic()
        argv = ["-p", "amd64", "--source", str(source), "--build-dir", str(work / "p11-plan"), "--", "true"]
        plan = invocation.plan_invocation(read_options(argv, os.environ), os.environ, Host.current())
        run, request = plan.platforms[0], plan.images
        if request is None:
            raise SystemExit("bench: P11 planned no image request")
        projectbuild.ensure_run_image(
            engine, run.platform, run.image, run.project_image, context=plan.docker_dir,
            request=request, host_platform=plan.host_platform, output=lambda _chunk, _err: None,
        )  # fmt: skip
        return time.monotonic() - started

    # Side by side: the same resolution for the sample (no project file) and for the project.
    pairs = [(resolve(REPO / "xsum"), resolve(src)) for _ in range(max(repeat, 5))]
    plain = statistics.median(a for a, _ in pairs)
    with_project = statistics.median(b for _, b in pairs)
    return [
        Figure(name="P11", what="unchanged rerun resolves its project image (packages), no build (median)",
               value=with_project, unit=" s", target="< 0.2 (as P4)", met=with_project < 0.2,
               detail={"project_s": with_project, "no_project_s": plain, "ratio": with_project / plain}),
    ]  # fmt: skip
