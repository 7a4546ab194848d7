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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import PYTHON, REPO

# Run under the project's environment (made by scripts/provision.sh), as build.py does.
if (
    __name__ == "__main__"
    and Path(sys.prefix).resolve() != (REPO / ".venv").resolve()
    and Path(PYTHON).exists()
):
    os.execv(PYTHON, [PYTHON, str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606

from benchmarks.caches import shared_cache, source_size
from benchmarks.common import Figure
from benchmarks.coverage import coverage_cost
from benchmarks.emulation import bootstrap_modes, cross_vs_native, native_vs_emulated_cross, qemu_cpu
from benchmarks.lifecycle import overhead, project_image_rerun, signals
from benchmarks.rebuilds import autotools_rerun, meson_rerun, warm_rebuild
from benchmarks.several import all_platforms, report_cost
from benchmarks.testphase import emulated_test_phase
from benchmarks.variants import variants_at_once

BENCHMARKS: dict[str, Callable[[int, Path], list[Figure]]] = {
    "P7": source_size,
    "P2": warm_rebuild,
    "P9": meson_rerun,
    "P10": autotools_rerun,
    "P11": project_image_rerun,
    "P5": all_platforms,
    "P12": report_cost,
    "P13": variants_at_once,
    "P14": emulated_test_phase,
    "C1": coverage_cost,
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
