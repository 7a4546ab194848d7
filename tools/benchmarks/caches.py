"""Figures of the source and the caches: a large source tree's cost (P7), a shared compiler cache
served by Redis (P8)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import BUILD_PY, Figure, build_py, generate_tree, median_of


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
