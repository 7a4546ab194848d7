"""Figures of rebuilds: a warm rebuild through ccache (P2), Meson and autotools reruns that configure
nothing (P9, P10)."""

from __future__ import annotations

import re
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    BUILD_PY,
    GENERATED_UNITS,
    Figure,
    build_py,
    generate_tree,
    median_of,
    stamped_run,
)


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
