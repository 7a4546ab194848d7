#!/usr/bin/env python3
"""The benchmark: every speed claim as a ratio measured side by side in one run, with medians.

Usage: tools/bench.py [--repeat N] [--only NAME,...] [--json FILE]
Prints a table (figure, measured, target, met) and writes the same as JSON. Figures are never
asserted by timed tests: this script is where they are proven, on the machine it runs on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
BUILD_PY = str(REPO / "build.py")  # run as users run it: its own sh prologue picks the interpreter

# Run under the project's environment (made by scripts/provision.sh), as build.py does.
if (
    __name__ == "__main__"
    and Path(sys.prefix).resolve() != (REPO / ".venv").resolve()
    and Path(PYTHON).exists()
):
    os.execv(PYTHON, [PYTHON, str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


@dataclasses.dataclass
class Figure:
    name: str
    what: str
    value: float
    unit: str
    target: str
    met: bool
    detail: dict[str, float]


def build_py(*args: str, cwd: Path | None = None, check: bool = True) -> float:
    """Seconds one ./build.py run takes (its output discarded)."""
    started = time.monotonic()
    proc = subprocess.run([BUILD_PY, *args], cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        raise SystemExit(
            f"bench: ./build.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return seconds


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def cold_total(plat: str, work: Path, source: Path | None = None) -> float:
    """Configure + compile (ccache off) + ctest in an empty build dir; the image already exists."""
    build = Path(tempfile.mkdtemp(prefix=f"bench-{plat}-", dir=work))
    on = ["--source", str(source)] if source else []
    try:
        return build_py("-p", plat, *on, "--build-dir", str(build), "-e", "CCACHE_DISABLE=1")
    finally:
        shutil.rmtree(build, ignore_errors=True)


def cross_vs_native(repeat: int, work: Path) -> list[Figure]:
    """B3a on the generated C++ tree, whose cost is compiling (what cross-compiling decides);
    B3b on xsum, as compiling it under full emulation is already several times slower."""
    for plat in ("amd64", "armv7", "test.armv7"):
        build_py("-p", plat, "-b")  # images first: only builds and tests are timed
    tree = generate_tree(work / "b3")
    # Interleaved, so a machine whose load changes meanwhile weighs on both sides alike.
    pairs = [(cold_total("amd64", work, tree), cold_total("armv7", work, tree)) for _ in range(repeat)]
    amd64 = statistics.median(a for a, _ in pairs)
    armv7 = statistics.median(b for _, b in pairs)
    armv7_xsum = median_of(repeat, lambda: cold_total("armv7", work))
    full = median_of(max(1, repeat // 2), lambda: cold_total("test.armv7", work))
    return [
        Figure(
            name="B3a",
            what=f"armv7 / amd64, cold, ccache off, the generated tree ({GENERATED_UNITS} C++ units): "
            "cross-compile + ctest under qemu-user vs native",
            value=armv7 / amd64,
            unit="x",
            target="<= 1.15",
            met=armv7 / amd64 <= 1.15,
            detail={"armv7_s": armv7, "amd64_s": amd64},
        ),
        Figure(
            name="B3b",
            what="test.armv7 (compile under full emulation) / armv7 (cross), xsum, cold",
            value=full / armv7_xsum,
            unit="x",
            target=">= 5",
            met=full / armv7_xsum >= 5,
            detail={"test.armv7_s": full, "armv7_s": armv7_xsum},
        ),
    ]


QEMU_X86_64 = Path("/usr/bin/qemu-x86_64-static")  # Debian's qemu-user-static


def native_vs_emulated_cross(repeat: int, work: Path) -> list[Figure]:
    """B9: what the native way saves an arm64 engine, on xsum, cold, ccache off. (a) The arm64
    platform's native image on this machine's dockerd shown as an arm64 engine (archshim, from
    tests/integration), so under qemu-user as a whole here, where arm64 hardware runs it as it
    is. (b) Its x86-64 cross image, which is what an arm64 engine would have to emulate without
    the native way, approximated by running gcc's cc1, as and collect2 under qemu-x86_64 (gcc
    -wrapper); cmake, ninja, ld and the step's shell stay native (QEMU 7.2's qemu-x86_64 crashes
    running cmake), so (b) is an underestimate. (c) That cross image natively, for scale."""
    if not QEMU_X86_64.is_file():
        raise SystemExit(f"bench: B9 needs {QEMU_X86_64} (Debian's qemu-user-static)")
    sys.path.insert(0, str(REPO))
    from tests.integration import archshim  # noqa: PLC0415

    def cold(*args: str, wrapped: bool = False) -> tuple[float, float]:
        """The whole run's seconds and its compile phase's (the step's `build with` to its tests)."""
        build = Path(tempfile.mkdtemp(prefix="b9-", dir=work))
        wrapper: list[str] = []
        if wrapped:  # in the build dir, which the container sees at /work/build
            shutil.copy2(QEMU_X86_64, build / QEMU_X86_64.name)
            wrapper = ["-e", f"CFLAGS=-wrapper /work/build/{QEMU_X86_64.name}"]
        try:
            seconds, _, stamps = stamped_run([BUILD_PY, "-p", "arm64", *args, "--build-dir", str(build),
                                              "-e", "CCACHE_DISABLE=1", *wrapper])  # fmt: skip
            if wrapped and "-wrapper" not in (build / "CMakeCache.txt").read_text(encoding="utf-8"):
                raise SystemExit("bench: B9's compilers were not run under qemu-x86_64 (no -wrapper)")
            return seconds, stamps["phase"] - stamps["build with"]
        finally:
            shutil.rmtree(build, ignore_errors=True)

    with archshim.serving() as url:
        on_arm64 = ("--docker-host", f"arm64={url}")
        build_py("-p", "arm64", *on_arm64, "-b")  # images first (the native one under QEMU: minutes)
        build_py("-p", "arm64", "-b")
        # Interleaved, so a machine whose load changes meanwhile weighs on all three alike.
        runs = [(cold(*on_arm64), cold(wrapped=True), cold()) for _ in range(repeat)]
    (native, native_c), (emulated, emulated_c), (cross, cross_c) = (
        (statistics.median(run[i][0] for run in runs), statistics.median(run[i][1] for run in runs))
        for i in range(3)
    )
    detail = {
        "emulated_cross_s": emulated,
        "native_under_qemu_s": native,
        "cross_native_s": cross,
        "emulated_cross_compile_s": emulated_c,
        "native_under_qemu_compile_s": native_c,
        "cross_native_compile_s": cross_c,
    }
    return [
        Figure(name="B9a", what="arm64 on an arm64 engine, xsum, cold, ccache off: (b) the x86-64 cross "
               "image, its compilers under qemu-x86_64 (cmake, ninja, ld native: an underestimate) / (a) "
               "the native arm64 image, here under qemu-user as a whole (on arm64 hardware: native)",
               value=emulated / native, unit="x", target="-", met=True, detail=detail),
        Figure(name="B9b", what="what an arm64 engine saves by the native way: (b) the x86-64 cross image "
               "under x86-64 emulation / (c) the same image at native speed, as the native image runs on "
               "arm64 hardware", value=emulated / cross, unit="x", target=">= 2", met=emulated / cross >= 2,
               detail=detail),
    ]  # fmt: skip


def bootstrap_modes(repeat: int, work: Path) -> list[Figure]:
    """B10: a foreign base as build.py bootstraps it (armhf Debian trixie, minbase, to a tar),
    in a chroot with its maintainer scripts under QEMU / chrootless in the read-only sandbox
    (this machine's dpkg, no QEMU); interleaved, medians."""
    sys.path.insert(0, str(REPO))
    from ci.images import bootstrap  # noqa: PLC0415
    from ci.images.baseimage import BootstrapRecipe  # noqa: PLC0415

    mirror = os.environ.get("CI_DEBIAN_MIRROR") or "http://deb.debian.org/debian"
    recipe = BootstrapRecipe(image="bench/debian:trixie", docker_platform="linux/arm/v7", suite="trixie",
                             debian_arch="armhf", mirror=mirror)  # fmt: skip

    def timed(chrootless: bool) -> float:
        scratch = bootstrap.scratch_dir()
        try:
            argv = (
                bootstrap.chrootless_argv(recipe, scratch)
                if chrootless
                else bootstrap.mmdebstrap_argv(recipe, scratch / "rootfs.tar")
            )
            started = time.monotonic()
            subprocess.run(argv, capture_output=True, check=True)
            return time.monotonic() - started
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    runs = [(timed(chrootless=False), timed(chrootless=True)) for _ in range(repeat)]
    chroot, chrootless = (statistics.median(run[i] for run in runs) for i in range(2))
    return [
        Figure(name="B10", what="a foreign base bootstrapped (armhf trixie): in a chroot, maintainer scripts "
               "under QEMU / chrootless, this machine's dpkg in a read-only sandbox",
               value=chroot / chrootless, unit="x", target=">= 3", met=chroot / chrootless >= 3,
               detail={"chroot_s": chroot, "chrootless_s": chrootless}),
    ]  # fmt: skip


def qemu_cpu(repeat: int, work: Path) -> list[Figure]:
    """B11: arm64 code under QEMU with QEMU's default CPU / with docker/arches' arm64 qemu_cpu
    (max,pauth-impdef=on), which build.py tells QEMU by itself; interleaved, medians. (a) xsum on
    the arm64 userland (test.arm64: configured, compiled with ccache off, tested, cold), the
    default asked for with `-e QEMU_CPU=max` (the run's -e decides); (b) a layer of an emulated
    image: the build systems (python3, Meson, autotools) installed on that userland with
    `docker build --no-cache`, without and with the build argument build.py adds."""
    sys.path.insert(0, str(REPO))
    from ci.planning import arches, dockerfile, emulation  # noqa: PLC0415

    told = arches.by_name("arm64").qemu_cpu  # type: ignore[union-attr]
    made = subprocess.run([BUILD_PY, "-p", "test.arm64", "-b"], capture_output=True, text=True, check=True)
    userland = made.stdout.split()[-1]

    def cold(*extra: str) -> float:
        build = Path(tempfile.mkdtemp(prefix="b11-", dir=work))
        try:
            return build_py("-p", "test.arm64", "--build-dir", str(build), "-e", "CCACHE_DISABLE=1", *extra)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def layer(with_cpu: bool) -> float:
        context = Path(tempfile.mkdtemp(prefix="b11-layer-", dir=work))
        (context / "install").mkdir()
        for script in ("debian_build_systems.sh", "debian_packages.sh"):
            shutil.copy2(REPO / "docker" / "install" / script, context / "install" / script)
        text = (
            f"FROM {userland}\nCOPY install/ /opt/ci/install/\nRUN /opt/ci/install/debian_build_systems.sh\n"
        )
        (context / "Dockerfile").write_text(
            dockerfile.with_build_arg(text, emulation.QEMU_CPU, told) if with_cpu else text
        )
        tag = f"ciharness-bench/b11:{context.name.lower()}"
        try:
            started = time.monotonic()
            subprocess.run(["docker", "build", "-q", "--no-cache", "--platform", "linux/arm64", "-t", tag,
                            str(context)], capture_output=True, check=True)  # fmt: skip
            return time.monotonic() - started
        finally:
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
            shutil.rmtree(context, ignore_errors=True)

    runs = [(cold("-e", "QEMU_CPU=max"), cold(), layer(False), layer(True)) for _ in range(repeat)]
    xsum_default, xsum_told, layer_default, layer_told = (
        statistics.median(r[i] for r in runs) for i in range(4)
    )
    detail = {"xsum_default_s": xsum_default, "xsum_told_s": xsum_told,
              "layer_default_s": layer_default, "layer_told_s": layer_told}  # fmt: skip
    return [
        Figure(name="B11a", what="xsum on the arm64 userland under QEMU, cold, ccache off: QEMU's default "
               f"CPU (max: pointer authentication by QARMA5) / {told} (docker/arches)",
               value=xsum_default / xsum_told, unit="x", target=">= 1.25",
               met=xsum_default / xsum_told >= 1.25, detail=detail),
        Figure(name="B11b", what="an emulated arm64 image's layer (python3, Meson, autotools installed on "
               f"the arm64 userland, --no-cache): QEMU's default CPU / {told}, the build argument "
               "build.py adds", value=layer_default / layer_told, unit="x", target=">= 2",
               met=layer_default / layer_told >= 2, detail=detail),
    ]  # fmt: skip


def our_containers(owner_pid: int) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.ciharness.owner-pid={owner_pid}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


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


GENERATED_UNITS = 12  # each about 5 s of g++ -O2 here: a cold build of 30 s or more on 2 cores


def generate_tree(root: Path, units: int = GENERATED_UNITS) -> Path:
    """A C++ CMake project heavy enough to compile that caching shows (std::regex per unit)."""
    src = root / "generated"
    (src / "src").mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(units):
        names.append(f"src/unit{i}.cpp")
        (src / names[-1]).write_text(
            "#include <map>\n#include <regex>\n#include <sstream>\n#include <string>\n#include <vector>\n"
            f"std::string unit{i}(const std::string& s) {{\n"
            f'  std::regex r("([a-z]+)([0-9]{{{i % 3 + 1}}})");\n'
            "  std::map<std::string, std::vector<int>> m;\n  std::ostringstream o;\n"
            "  for (std::sregex_iterator it(s.begin(), s.end(), r), end; it != end; ++it) {\n"
            "    m[(*it)[1]].push_back(static_cast<int>((*it)[2].length()));\n    o << (*it)[0];\n  }\n"
            "  return o.str() + std::to_string(m.size());\n}\n"
        )
    decls = "".join(f"std::string unit{i}(const std::string&);\n" for i in range(units))
    calls = " + ".join(f"unit{i}(s)" for i in range(units))
    (src / "src" / "main.cpp").write_text(
        f'#include <string>\n{decls}int main() {{ std::string s = "ab1 cd22 ef333"; '
        f"return ({calls}).empty() ? 1 : 0; }}\n"
    )
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(generated CXX)\nenable_testing()\n"
        f"add_executable(gen src/main.cpp {' '.join(names)})\nadd_test(NAME gen.runs COMMAND gen)\n"
    )
    return src


def warm_rebuild(repeat: int, work: Path) -> list[Figure]:
    src = generate_tree(work)
    ccache = work / "p2-ccache"
    build_py("-p", "amd64", "-b")

    def through_build_py(cache: Path) -> tuple[float, float]:
        build = Path(tempfile.mkdtemp(prefix="p2-", dir=work))
        started = time.monotonic()
        proc = subprocess.run(
            [BUILD_PY, "-p", "amd64", "--source", str(src), "--build-dir", str(build),
             "--ccache-dir", str(cache)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
        shutil.rmtree(build, ignore_errors=True)
        found = re.findall(r"ccache (\d+) hits, (\d+) misses", proc.stderr)
        hits, misses = (int(found[-1][0]), int(found[-1][1])) if found else (0, 1)
        return seconds, hits / max(1, hits + misses)

    def raw_docker(cache: Path) -> float:
        build = Path(tempfile.mkdtemp(prefix="p2raw-", dir=work))
        line = subprocess.run(
            [BUILD_PY, "-p", "amd64", "--source", str(src), "--build-dir", str(build),
             "--ccache-dir", str(cache), "--print-docker-run"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        started = time.monotonic()
        subprocess.run(shlex.split(line), capture_output=True, check=True)
        seconds = time.monotonic() - started
        shutil.rmtree(build, ignore_errors=True)
        return seconds

    cold_s, _ = through_build_py(ccache)  # also fills the cache
    warm = [through_build_py(ccache) for _ in range(repeat)]
    warm_s = statistics.median(w[0] for w in warm)
    hit_rate = min(w[1] for w in warm)
    raw_s = median_of(repeat, lambda: raw_docker(ccache))
    return [
        Figure(name="P2a", what="warm rebuild, empty build dir: build.py / the same raw docker run",
               value=warm_s / raw_s, unit="x", target="<= 1.2", met=warm_s / raw_s <= 1.2,
               detail={"build_py_s": warm_s, "raw_docker_s": raw_s}),
        Figure(name="P2b", what="ccache hit rate of the warm rebuilds (lowest of the repeats)",
               value=hit_rate * 100, unit=" %", target=">= 99", met=hit_rate >= 0.99,
               detail={"rate": hit_rate}),
        Figure(name="P2c", what=f"cold build / warm rebuild, {GENERATED_UNITS} generated C++ units",
               value=cold_s / warm_s, unit="x", target="cold >= 30 s", met=cold_s >= 30,
               detail={"cold_s": cold_s, "warm_s": warm_s}),
    ]  # fmt: skip


def generated_build_files(src: Path) -> None:
    """The generated tree's build for Meson and for autotools (a libtool library, as most
    autotools projects have; shared only, so each unit compiles once), beside its CMakeLists.txt:
    runs name the build system with --build-system."""
    units = sorted(p.relative_to(src).as_posix() for p in (src / "src").glob("unit*.cpp"))
    (src / "meson.build").write_text(
        "project('generated', 'cpp', default_options: ['buildtype=debugoptimized'])\n"
        f"gen = executable('gen', 'src/main.cpp', {', '.join(repr(u) for u in units)})\n"
        "test('gen.runs', gen)\n"
    )
    (src / "configure.ac").write_text(
        "AC_INIT([generated], [1.0])\nAC_CONFIG_AUX_DIR([build-aux])\nAC_CONFIG_MACRO_DIR([m4])\n"
        "AM_INIT_AUTOMAKE([foreign subdir-objects])\nAC_PROG_CXX\nAM_PROG_AR\nLT_INIT([disable-static])\n"
        "AC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n"
    )
    (src / "Makefile.am").write_text(
        f"ACLOCAL_AMFLAGS = -I m4\nlib_LTLIBRARIES = libgen.la\nlibgen_la_SOURCES = {' '.join(units)}\n"
        "bin_PROGRAMS = gen\ngen_SOURCES = src/main.cpp\ngen_LDADD = libgen.la\nTESTS = gen\n"
    )


# What build_generic runs for each build system in the amd64 image, typed by hand: the same
# commands, the whole build (configure included) and the rerun in a configured build dir.
BY_HAND = {
    "meson": (
        "meson setup /work/build /work/src && meson compile -C /work/build -j 2 && meson test -C /work/build",
        "meson compile -C /work/build -j 2 && meson test -C /work/build",
        "meson setup --reconfigure /work/build /work/src",
    ),
    "autotools": (
        "(cd /work/src && autoreconf -fi) && /work/src/configure --build=x86_64-linux-gnu"
        " --host=x86_64-linux-gnu CC='ccache x86_64-linux-gnu-gcc' CXX='ccache x86_64-linux-gnu-g++'"
        " && make -j2 && make -j1 check",
        "make -j2 && make -j1 check",
        "./config.status --recheck && ./config.status",
    ),
}


def stamped_run(argv: list[str]) -> tuple[float, str, dict[str, float]]:
    """Seconds a run takes, its output (stdout and stderr merged), and when (seconds from its
    start) each of its step's `==> ` lines first appeared."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    stamps: dict[str, float] = {}
    for line in proc.stdout or ():
        lines.append(line)
        found = re.search(r"==> (\w+( \w+)?)", line)
        if found:
            stamps.setdefault(found.group(1), time.monotonic() - started)
    status = proc.wait()
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"bench: {shlex.join(argv)} failed ({status}):\n{''.join(lines)[-2000:]}")
    return seconds, "".join(lines), stamps


def configure_phase(stamps: dict[str, float]) -> float:
    """From the step naming the build system to its build starting: generating and running
    configure (autotools), meson setup; nothing when the step found them done."""
    return stamps["build with"] - stamps["build system"]


def build_system_rerun(system: str, name: str, repeat: int, work: Path) -> list[Figure]:
    """A warm rerun (empty build dir, warm ccache) and an unchanged rerun (the same build dir)
    of the generated tree with `system`, through build.py / the same commands by hand in the
    same docker run line (image, mounts, environment)."""
    src = generate_tree(work)
    generated_build_files(src)
    ccache = work / f"{name}-ccache"
    build_py("-p", "amd64", "-b")
    common = ["-p", "amd64", "--source", str(src), "--ccache-dir", str(ccache), "--build-system", system]

    def harness(build: Path) -> tuple[float, float, float]:
        seconds, shown, stamps = stamped_run([BUILD_PY, *common, "--build-dir", str(build)])
        found = re.findall(r"ccache (\d+) hits, (\d+) misses", shown)
        hits, misses = (int(found[-1][0]), int(found[-1][1])) if found else (0, 1)
        return seconds, hits / max(1, hits + misses), configure_phase(stamps)

    def by_hand(build: Path, script: str) -> float:
        line = subprocess.run(
            [BUILD_PY, *common, "--build-dir", str(build), "--print-docker-run"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        argv = shlex.split(line)
        return stamped_run([*argv[: argv.index("/work/runtime_functions.sh")], "bash", "-c", script])[0]

    def fresh() -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))

    whole, rerun, reconfigure = BY_HAND[system]
    harness(fresh())  # fills the cache
    # Interleaved, so a machine whose load changes meanwhile weighs on both sides alike.
    warm = [(harness(fresh()), by_hand(fresh(), whole)) for _ in range(repeat)]
    kept, kept_by_hand = fresh(), fresh()
    harness(kept)
    by_hand(kept_by_hand, whole)
    same = [(harness(kept), by_hand(kept_by_hand, rerun)) for _ in range(repeat)]
    again = statistics.median(by_hand(kept_by_hand, reconfigure) for _ in range(repeat))
    warm_s, hand_s = statistics.median(w[0][0] for w in warm), statistics.median(w[1] for w in warm)
    rate, setup_s = min(w[0][1] for w in warm), statistics.median(w[0][2] for w in warm)
    same_s, same_hand_s = statistics.median(s[0][0] for s in same), statistics.median(s[1] for s in same)
    skipped_s = statistics.median(s[0][2] for s in same)
    label = {"meson": "Meson", "autotools": "autotools (configure.ac, libtool)"}[system]
    same_detail = {"build_py_s": same_s, "by_hand_s": same_hand_s}
    return [
        Figure(name=f"{name}a", what=f"{label}: warm rerun, empty build dir: build.py / the same commands "
               "by hand in the same docker run", value=warm_s / hand_s, unit="x", target="<= 1.2",
               met=warm_s / hand_s <= 1.2,
               detail={"build_py_s": warm_s, "by_hand_s": hand_s, "configure_phase_s": setup_s}),
        Figure(name=f"{name}b", what=f"{label}: ccache hit rate of those warm reruns (lowest)",
               value=rate * 100, unit=" %", target=">= 99", met=rate >= 0.99, detail={"rate": rate}),
        Figure(name=f"{name}c", what=f"{label}: configure phase of an unchanged rerun (same build dir)",
               value=skipped_s, unit=" s", target="<= 0.1", met=skipped_s <= 0.1,
               detail={"configure_phase_s": skipped_s, "reconfigure_by_hand_s": again}),
        Figure(name=f"{name}d", what=f"{label}: unchanged rerun: build.py minus compile and test by hand",
               value=same_s - same_hand_s, unit=" s", target="<= 0.3", met=same_s - same_hand_s <= 0.3,
               detail=same_detail),
    ]  # fmt: skip


def meson_rerun(repeat: int, work: Path) -> list[Figure]:
    return build_system_rerun("meson", "P9", repeat, work)


def autotools_rerun(repeat: int, work: Path) -> list[Figure]:
    return build_system_rerun("autotools", "P10", repeat, work)


P5_PLATFORMS = ["amd64", "i386", "armv7", "arm64"]
LANE_RE = re.compile(r'<g class="lane" data-platform="([^"]+)">(.*?)</g>', re.DOTALL)
BAR_RE = re.compile(r'data-phase="([^"]+)".*?<title>[^<]*?, ([0-9.]+)-([0-9.]+) s')


def timeline_of(report: Path) -> dict[str, list[tuple[str, float, float]]]:
    """Each platform's phases (phase, start, end) as the run's HTML report draws them."""
    text = report.read_text(encoding="utf-8")
    return {
        name: [(phase, float(a), float(b)) for phase, a, b in BAR_RE.findall(lane)]
        for name, lane in LANE_RE.findall(text)
    }


def idle_while_waiting(lanes: dict[str, list[tuple[str, float, float]]], cores: int) -> dict[str, float]:
    """From a run's timeline: seconds some platform spent waiting for a worker, and core-seconds
    left idle meanwhile (fewer platforms past waiting than cores), sampled every 10 ms."""
    end = max((b for bars in lanes.values() for _, _, b in bars), default=0.0)
    waited = sum(b - a for bars in lanes.values() for phase, a, b in bars if phase == "waiting")
    idle = 0.0
    for i in range(int(end / 0.01)):
        t = i * 0.01 + 0.005
        now = [phase for bars in lanes.values() for phase, a, b in bars if a <= t < b]
        if "waiting" in now:
            idle += max(0, cores - sum(phase != "waiting" for phase in now)) * 0.01
    return {"waited_s": round(waited, 2), "idle_core_s_while_waiting": round(idle, 2)}


def several_at_once(repeat: int, work: Path, name: str, source: Path | None, cold: bool) -> Figure:
    """Several platforms in one run against what this machine could do at best: the slowest
    platform alone, or all their work spread perfectly over its cores, whichever is longer. The
    run's own report gives its timeline: time spent waiting for a worker while a core was idle."""
    ccache = work / f"{name}-ccache"
    on = ["--source", str(source)] if source else []
    cache = ["-e", "CCACHE_DISABLE=1"] if cold else ["--ccache-dir", str(ccache)]
    report = work / f"{name}-report.html"

    def run(names: list[str]) -> float:
        build = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))
        try:
            return build_py("-p", ",".join(names), *on, "--build-dir", str(build / "b"), *cache,
                            "--report", str(report))  # fmt: skip
        finally:
            shutil.rmtree(build, ignore_errors=True)

    if not cold:
        run(P5_PLATFORMS)  # warm the cache
    singles = {p: median_of(repeat, lambda p=p: run([p])) for p in P5_PLATFORMS}  # type: ignore[misc]
    together = median_of(repeat, lambda: run(P5_PLATFORMS))  # the report is the last run's
    cores = os.cpu_count() or 1
    bound = max(*singles.values(), sum(singles.values()) / cores)
    detail = {"together_s": together, "bound_s": bound, **{f"{p}_s": v for p, v in singles.items()},
              **idle_while_waiting(timeline_of(report), cores)}  # fmt: skip
    tree = f"the generated tree ({GENERATED_UNITS} C++ units), cold, ccache off" if cold else "xsum, warm"
    return Figure(name=name, what=f"-p {','.join(P5_PLATFORMS)} ({tree}, -j default) / max(slowest single, "
                  f"sum of singles / {cores} cores)",
                  value=together / bound, unit="x", target="<= 1.15", met=together / bound <= 1.15,
                  detail=detail)  # fmt: skip


def all_platforms(repeat: int, work: Path) -> list[Figure]:
    """P5 on xsum, warm (runs of 1 to 3 s, where fixed costs weigh most), and P5b on the
    generated tree, cold (compiling, where the scheduler's choices matter)."""
    build_py("-p", ",".join(P5_PLATFORMS), "-b")
    return [
        several_at_once(repeat, work, "P5", None, cold=False),
        several_at_once(repeat, work, "P5b", generate_tree(work / "p5b"), cold=True),
    ]


REPORT_LINE = re.compile(r"DEBUG: report \S+ written in ([0-9.]+) s")


def report_cost(repeat: int, work: Path) -> list[Figure]:
    """P12: what writing the report adds to a run of three platforms: the time from loading its
    modules to its file written (--debug's line), and beside it the whole run with and without a
    report (--report none), interleaved (that difference is within the runs' noise)."""
    argv = ["-p", "amd64,armv7,s390x", "--build-dir", str(work / "p12" / "b"), "--debug"]
    writes: list[float] = []
    pairs: list[tuple[float, float]] = []
    for _ in range(max(repeat, 5)):
        started = time.monotonic()
        proc = subprocess.run([BUILD_PY, *argv, "--report", str(work / "p12.html"), "--", "true"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        with_report = time.monotonic() - started
        found = REPORT_LINE.search(proc.stderr)
        if found is None:
            raise SystemExit(f"bench: P12 found no report line:\n{proc.stderr[-2000:]}")
        writes.append(float(found.group(1)))
        pairs.append((with_report, build_py(*argv, "--report", "none", "--", "true")))
    write = statistics.median(writes)
    detail = {"write_s": write, "run_with_report_s": statistics.median(a for a, _ in pairs),
              "run_without_s": statistics.median(b for _, b in pairs)}  # fmt: skip
    return [
        Figure(name="P12", what="writing the report (HTML, timeline) at the end of a 3-platform run (median)",
               value=write, unit=" s", target="< 0.05", met=write < 0.05, detail=detail),
    ]  # fmt: skip


def large_tree(root: Path, total_bytes: int = 1 << 30, files: int = 20_000) -> Path:
    """A source tree of total_bytes across many files in nested dirs (incompressible data)."""
    chunk = os.urandom(total_bytes // files)
    for i in range(files):
        d = root / f"d{i // 1000:02d}" / f"e{i // 100 % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.c").write_bytes(chunk)
    os.sync()  # its writeback must not land on the measurements
    return root


def source_size(repeat: int, work: Path) -> list[Figure]:
    """A run's fixed cost must not grow with the source tree: the copy-on-write source is an
    overlay mount, not a copy."""
    build_py("-p", "amd64", "-b")
    tiny = work / "p7-tiny"
    tiny.mkdir()
    (tiny / "CMakeLists.txt").write_text("project(tiny NONE)\n")
    large = large_tree(work / "p7-large")

    def once(source: Path) -> float:
        build = Path(tempfile.mkdtemp(prefix="p7-", dir=work))
        try:
            return build_py("-p", "amd64", "--source", str(source), "--build-dir", str(build / "b"),
                            "--", "sh", "-c", "echo > /work/src/written-by-the-run")  # fmt: skip
        finally:
            shutil.rmtree(build, ignore_errors=True)

    # Interleaved, so a noisy moment of the machine hits both alike.
    pairs = [(once(tiny), once(large)) for _ in range(max(repeat, 5))]
    tiny_s = statistics.median(t for t, _ in pairs)
    large_s = statistics.median(g for _, g in pairs)
    return [
        Figure(name="P7", what="copy-on-write run over a 1 GiB source tree (20,000 files) minus a tiny one",
               value=large_s - tiny_s, unit=" s", target="<= 0.1", met=large_s - tiny_s <= 0.1,
               detail={"large_s": large_s, "tiny_s": tiny_s}),
    ]  # fmt: skip


def bridge_gateway() -> str:
    """The address containers on the default bridge reach this machine at (docker0's own)."""
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=True
    )
    return shown.stdout.split(" inet ", 1)[1].split("/", 1)[0]


def shared_cache(repeat: int, work: Path) -> list[Figure]:
    """P8: a fresh agent (empty build dir, empty local ccache) served by a Redis that a cold build
    filled, against a warm local cache and against that cold build, on P2c's tree."""
    src = generate_tree(work)
    build_py("-p", "amd64", "-b")
    address = bridge_gateway()
    with socket.socket() as probe:
        probe.bind((address, 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        ["redis-server", "--bind", address, "--port", str(port), "--save", "", "--protected-mode", "no"],
        stdout=subprocess.DEVNULL,
    )
    remote = f"redis://{address}:{port}"

    def timed(cache: Path) -> tuple[float, tuple[int, int]]:
        build = Path(tempfile.mkdtemp(prefix="p8-", dir=work))
        started = time.monotonic()
        proc = subprocess.run(
            [BUILD_PY, "-p", "amd64", "--source", str(src), "--build-dir", str(build),
             "--ccache-dir", str(cache), "--ccache-remote", remote],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
        shutil.rmtree(build, ignore_errors=True)
        found = re.findall(r"ccache (\d+) hits, (\d+) misses \(\d+%; (\d+) local, (\d+) remote", proc.stderr)
        return seconds, (int(found[-1][3]), int(found[-1][0]) + int(found[-1][1])) if found else (0, 1)

    try:
        time.sleep(0.5)
        warm_cache = work / "p8-ccache"
        cold_s, _ = timed(warm_cache)  # empty local cache, empty Redis: fills both
        warm_s = median_of(repeat, lambda: timed(warm_cache)[0])
        fresh = [timed(Path(tempfile.mkdtemp(prefix="p8-fresh-", dir=work))) for _ in range(repeat)]
    finally:
        redis.terminate()
        redis.wait()
    remote_s = statistics.median(f[0] for f in fresh)
    remote_rate = min(f[1][0] / max(1, f[1][1]) for f in fresh)
    print(f"bench: P8 cold {cold_s:.2f} s, warm local {warm_s:.2f} s, empty local + Redis {remote_s:.2f} s "
          f"(remote hits {remote_rate:.0%})", file=sys.stderr)  # fmt: skip
    detail = {"remote_s": remote_s, "warm_local_s": warm_s, "cold_s": cold_s, "remote_hit_rate": remote_rate}
    return [
        Figure(name="P8a", what="fresh agent served by Redis / warm local ccache (empty build dirs)",
               value=remote_s / warm_s, unit="x", target="<= 1.5", met=remote_s / warm_s <= 1.5,
               detail=detail),
        Figure(name="P8b", what="fresh agent served by Redis / cold build",
               value=remote_s / cold_s, unit="x", target="<= 0.1", met=remote_s / cold_s <= 0.1,
               detail=detail),
    ]  # fmt: skip


BENCHMARKS: dict[str, Callable[[int, Path], list[Figure]]] = {
    "P7": source_size,
    "P2": warm_rebuild,
    "P9": meson_rerun,
    "P10": autotools_rerun,
    "P11": project_image_rerun,
    "P5": all_platforms,
    "P12": report_cost,
    "P1": overhead,
    "R": signals,
    "B3": cross_vs_native,
    "native": native_vs_emulated_cross,
    "B10": bootstrap_modes,
    "B11": qemu_cpu,
    "P8": shared_cache,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="repeats per measurement (median taken)")
    parser.add_argument(
        "--only", default="", help="comma-separated benchmark groups: " + ",".join(BENCHMARKS)
    )
    parser.add_argument("--json", type=Path, default=REPO / "bench.json", help="where to write the figures")
    args = parser.parse_args(argv)
    groups = [g for g in args.only.split(",") if g] or list(BENCHMARKS)
    unknown = [g for g in groups if g not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark group(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="ciharness-bench-") as tmp:
        for group in groups:
            started = time.monotonic()
            figures.extend(BENCHMARKS[group](args.repeat, Path(tmp)))
            print(f"bench: {group} took {time.monotonic() - started:.0f} s", file=sys.stderr)
    machine = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%d"),
        "repeat": args.repeat,
    }
    rows = [("figure", "what", "measured", "target", "met")]
    rows += [(f.name, f.what, f"{f.value:.2f}{f.unit}", f.target, "yes" if f.met else "NO") for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"machine: {machine}")
    args.json.write_text(
        json.dumps({"machine": machine, "figures": [dataclasses.asdict(f) for f in figures]}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
