"""Figures of variants: P13 (2 variants x 3 platforms, warm, against the machine's bound), P5c
(P5's platforms against a bound from CPU-seconds) and V1 (each sanitizer's cost against the plain
build, per platform).

The bound: the slowest single job alone, or the CPU-seconds all the single jobs used spread over
the cores, whichever is longer. A single job's configure and build already use every core, so
its wall-clock time undercounts its work; the CPU-seconds come from /proc/stat (the whole
machine, otherwise idle while the benchmark runs: dockerd and build.py counted with the
containers)."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import Figure, build_py
from benchmarks.several import P5_PLATFORMS

P13_PLATFORMS = ("amd64", "armv7", "s390x")
# Two ways every one of those platforms builds and tests (UBSan works under QEMU; ASan not on s390x).
PROJECT = """\
[variant.clang]
compiler = "clang"

[variant.ubsan]
sanitize = ["undefined"]
build-type = "Debug"
"""
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal


def busy_seconds() -> float:
    """CPU-seconds this machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return sum(fields[i] for i in BUSY_FIELDS) / os.sysconf("SC_CLK_TCK")


def timed(work: Path, *args: str) -> tuple[float, float]:
    """(wall seconds, busy CPU-seconds) of one ./build.py run in an empty build dir."""
    build = Path(tempfile.mkdtemp(prefix="bench-", dir=work))
    try:
        before = busy_seconds()
        wall = build_py(*args, "--build-dir", str(build / "b"), cwd=build)
        return wall, busy_seconds() - before
    finally:
        shutil.rmtree(build, ignore_errors=True)


def median_pair(repeat: int, work: Path, *args: str) -> tuple[float, float]:
    runs = [timed(work, *args) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def against_cpu_bound(
    name: str, what: str, work: Path, *, repeat: int, singles: dict[str, list[str]], together: list[str]
) -> Figure:
    """The jobs together / max(slowest single, CPU-seconds of the singles over the cores)."""
    measured = {job: median_pair(repeat, work, *args) for job, args in singles.items()}
    both, _ = median_pair(repeat, work, *together)
    cores = os.cpu_count() or 1
    bound = max(*(w for w, _ in measured.values()), sum(c for _, c in measured.values()) / cores)
    detail = {"together_s": both, "bound_s": bound}
    detail |= {f"{job}_s": w for job, (w, _) in measured.items()}
    detail |= {f"{job}_cpu_s": c for job, (_, c) in measured.items()}
    met = both / bound <= 1.15
    return Figure(
        name=name, what=what, value=both / bound, unit="x", target="<= 1.15", met=met, detail=detail
    )


BOUND = "max(slowest single, CPU-seconds of the singles / cores)"


def variants_at_once(repeat: int, work: Path) -> list[Figure]:
    """P13 and P5c, warm (every image made and the ccache filled first), then V1."""
    project = work / "p13.toml"
    project.write_text(PROJECT, encoding="utf-8")
    on = ["--project-file", str(project), "--ccache-dir", str(work / "p13-ccache")]
    platforms = ",".join(P13_PLATFORMS)
    together = ["-p", platforms, "--variant", "all", *on]
    timed(work, *together)  # warm: images and ccache
    jobs = {f"{p}.{v}": ["-p", p, "--variant", v, *on] for p in P13_PLATFORMS for v in ("clang", "ubsan")}
    what = f"-p {platforms} --variant clang,ubsan (xsum, warm) / {BOUND}"
    p13 = against_cpu_bound("P13", what, work, repeat=repeat, singles=jobs, together=together)
    warm = ["--ccache-dir", str(work / "p5c-ccache")]
    all_p5 = ["-p", ",".join(P5_PLATFORMS), *warm]
    timed(work, *all_p5)
    singles = {p: ["-p", p, *warm] for p in P5_PLATFORMS}
    what = f"-p {','.join(P5_PLATFORMS)} (xsum, warm) / {BOUND}"
    p5c = against_cpu_bound("P5c", what, work, repeat=repeat, singles=singles, together=all_p5)
    return [p13, p5c, *sanitizer_costs(repeat, work)]


def sanitizer_costs(repeat: int, work: Path) -> list[Figure]:
    """V1: a warm run (empty build dir, warm ccache) under each sanitizer that works there /
    the plain one, per platform."""
    figures: list[Figure] = []
    for platform in ("amd64", "armv7"):
        ccache = ["--ccache-dir", str(work / f"v1-{platform}-ccache")]
        for args in ([], ["--sanitize", "address"], ["--sanitize", "undefined"]):
            timed(work, "-p", platform, *args, *ccache)  # warm
        plain, _ = median_pair(repeat, work, "-p", platform, *ccache)
        for sanitizer in ("address", "undefined"):
            under, _ = median_pair(repeat, work, "-p", platform, "--sanitize", sanitizer, *ccache)
            what = f"xsum on {platform} under {sanitizer} / plain (warm ccache, empty build dir)"
            detail = {"sanitized_s": under, "plain_s": plain}
            figures.append(
                Figure(
                    name=f"V1-{platform}-{sanitizer}",
                    what=what,
                    value=under / plain,
                    unit="x",
                    target="reported",
                    met=True,
                    detail=detail,
                )
            )
    return figures
