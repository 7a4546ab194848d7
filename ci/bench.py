#!/usr/bin/env python3
"""The benchmark: every speed claim as a ratio measured side by side in one run, with medians.

Usage: ci/bench.py [--repeat N] [--only NAME,...] [--json FILE]
Prints a table (figure, measured, target, met) and writes the same as JSON. Figures are never
asserted by timed tests: this script is where they are proven, on the machine it runs on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")


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
    proc = subprocess.run(
        [PYTHON, str(REPO / "build.py"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        raise SystemExit(
            f"bench: ./build.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return seconds


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def cold_total(plat: str, work: Path) -> float:
    """Configure + compile (ccache off) + ctest in an empty build dir; the image already exists."""
    build = Path(tempfile.mkdtemp(prefix=f"bench-{plat}-", dir=work))
    try:
        return build_py("-p", plat, "--build-dir", str(build), "-e", "CCACHE_DISABLE=1")
    finally:
        shutil.rmtree(build, ignore_errors=True)


def cross_vs_native(repeat: int, work: Path) -> list[Figure]:
    for plat in ("amd64", "armv7", "test.armv7"):
        build_py("-p", plat, "-b")  # images first: only builds and tests are timed
    amd64 = median_of(repeat, lambda: cold_total("amd64", work))
    armv7 = median_of(repeat, lambda: cold_total("armv7", work))
    full = median_of(max(1, repeat // 2), lambda: cold_total("test.armv7", work))
    return [
        Figure(
            name="B3a",
            what="armv7 total (cross-compile + ctest under qemu-user) / amd64 total",
            value=armv7 / amd64,
            unit="x",
            target="<= 1.15",
            met=armv7 / amd64 <= 1.15,
            detail={"armv7_s": armv7, "amd64_s": amd64},
        ),
        Figure(
            name="B3b",
            what="test.armv7 total (compile under full emulation) / armv7 total",
            value=full / armv7,
            unit="x",
            target=">= 5",
            met=full / armv7 >= 5,
            detail={"test.armv7_s": full, "armv7_s": armv7},
        ),
    ]


BENCHMARKS: dict[str, Callable[[int, Path], list[Figure]]] = {
    "B3": cross_vs_native,
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
