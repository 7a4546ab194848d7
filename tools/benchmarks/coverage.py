"""C1: what --coverage costs, per platform: a warm run (empty build dir, warm ccache) with
coverage / the plain one, and the gcovr step's own seconds (the `coverage` phase's bar in the
run's report)."""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import Figure, build_py

PLATFORMS = ("amd64", "armv7", "s390x")
COVERAGE_BAR = re.compile(r'data-phase="coverage"[^>]*><title>[^<]*\(([\d.]+) s\)</title>')


def one_run(work: Path, *args: str) -> tuple[float, float]:
    """(wall seconds, seconds of its coverage phase) of one run in an empty build dir."""
    build = Path(tempfile.mkdtemp(prefix="bench-cov-", dir=work))
    try:
        wall = build_py(*args, "--build-dir", str(build / "b"), "--report", str(build / "r.html"), cwd=build)
        found = COVERAGE_BAR.search((build / "r.html").read_text(encoding="utf-8"))
        if "--coverage" in args and found is None:
            raise SystemExit("bench: C1: the report has no coverage phase")
        return wall, float(found.group(1)) if found else 0.0
    finally:
        shutil.rmtree(build, ignore_errors=True)


def coverage_cost(repeat: int, work: Path) -> list[Figure]:
    """C1-<platform>: xsum with --coverage / plain, warm, and the gcovr step's seconds."""
    figures: list[Figure] = []
    for platform in PLATFORMS:
        ccache = ["-p", platform, "--ccache-dir", str(work / f"c1-{platform}-ccache")]
        one_run(work, *ccache)  # warm: images (the coverage one has gcovr) and ccache
        one_run(work, *ccache, "--coverage")
        plain = statistics.median(one_run(work, *ccache)[0] for _ in range(repeat))
        runs = [one_run(work, *ccache, "--coverage") for _ in range(repeat)]
        measured = statistics.median(wall for wall, _ in runs)
        gcovr = statistics.median(step for _, step in runs)
        figures.append(
            Figure(
                name=f"C1-{platform}",
                what=f"xsum on {platform} with --coverage / plain (warm ccache, empty build dir)",
                value=measured / plain,
                unit="x",
                target="reported",
                met=True,
                detail={"coverage_s": measured, "plain_s": plain, "gcovr_step_s": gcovr},
            )
        )
    return figures
