"""Figures of the test phase: P14, a long emulated test phase (many tests of a few seconds each,
armv7 under qemu-user) run one at a time (`--test-jobs 1`, the harness before issue 35) against
the default (the build's jobs at a time under QEMU, each failure then alone)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.common import Figure, build_py, median_of

TESTS = 24
SPIN_ITERATIONS = 1_500_000_000  # some 2.5 s under qemu-arm here (RelWithDebInfo)
PROJECT = {
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(spin C)\nenable_testing()\n"
    "add_executable(spin spin.c)\n"
    + "".join(f"add_test(NAME spin.{n:02d} COMMAND spin {SPIN_ITERATIONS + n})\n" for n in range(TESTS)),
    "spin.c": """\
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 1000000, x = 1;
    for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + i;
    printf("%lu\\n", x & 1);
    return 0;
}
""",
}


def emulated_test_phase(repeat: int, work: Path) -> list[Figure]:
    """P14: ctest over an existing armv7 build, one at a time / the default."""
    source = work / "p14-src"
    for name, text in PROJECT.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    build = Path(tempfile.mkdtemp(prefix="bench-p14-", dir=work)) / "b"
    where = ["-p", "armv7", "--source", str(source), "--build-dir", str(build)]
    try:
        build_py(*where)  # the image, the build, a first test run
        one = median_of(repeat, lambda: build_py(*where, "--test-jobs", "1", "unittest_ctest"))
        default = median_of(repeat, lambda: build_py(*where, "unittest_ctest"))
    finally:
        shutil.rmtree(build.parent, ignore_errors=True)
    return [
        Figure(
            name="P14",
            what=f"{TESTS} tests of ~2.5 s under qemu-user (armv7): one at a time / the default",
            value=one / default,
            unit="x",
            target=">= 1.7",
            met=one / default >= 1.7,
            detail={"one_at_a_time_s": one, "default_s": default},
        )
    ]
