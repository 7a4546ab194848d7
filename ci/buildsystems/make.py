"""Know: plain Make. Recognised by GNUmakefile, makefile or Makefile; built in the source's
copy-on-write view with the target's tools on make's command line; its `check` (else `test`)
target is one test case, from the record the step leaves."""

from __future__ import annotations

from pathlib import Path

from ci.buildsystems.junit import Case, is_fresh, text_of
from ci.buildsystems.spec import BuildSystem, Results

# What the step (make.sh) records of its check target (target=, status=, seconds=), beside the
# target's whole output in the same name + ".log", in the build dir.
CHECK_RECORD = ".ciharness-check"


def from_record(record: str, log: str) -> list[Case]:
    """The step's record of a Make project's check target (target=, status=, seconds=): one case
    carrying its output; none when the Makefile has neither `check` nor `test`."""
    fields = dict(line.split("=", 1) for line in record.splitlines() if "=" in line)
    target = fields.get("target", "").strip()
    if not target:
        return []
    status = int(fields.get("status", "1") or 1)
    return [
        Case(
            name=f"make {target}",
            status="passed" if status == 0 else "failed",
            seconds=float(fields.get("seconds", "0") or 0),
            message="" if status == 0 else f"make {target} exited with status {status}",
            output=log,
        )
    ]


def read(build_dir: Path, fresh: float) -> list[Case] | None:
    record = build_dir / CHECK_RECORD
    if not is_fresh(record, fresh):
        return None
    return from_record(text_of(record), text_of(build_dir / (CHECK_RECORD + ".log")))


SPEC = BuildSystem(
    name="make",
    markers=("GNUmakefile", "makefile", "Makefile"),
    packages=("make",),
    layer="build-tools",
    test_command="make check, else make test",
    cross="CC, CXX, AR, RANLIB, STRIP, CROSS_COMPILE and PKG_CONFIG of the target on make's command line",
    build_types=(
        "debugoptimized",
        "debug",
        "release",
    ),  # CFLAGS on make's command line: -O2 -g, -O0 -g, -O2 (none: the Makefile's own)
    results=(Results(tool="make", read=read),),
    programs={"make": "make"},
)
