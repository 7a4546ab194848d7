"""Figures of several platforms at once (P5) and of the run's report (P12)."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import BUILD_PY, GENERATED_UNITS, Figure, build_py, generate_tree, median_of

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
