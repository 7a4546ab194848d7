"""Know: Meson. Recognised by meson.build; set up with the cross images' cross file (compilers
through ccache, QEMU as exe_wrapper); its tests run by `meson test`, whose testlog.json becomes
our JUnit."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ci.buildsystems.junit import Case, Status, is_fresh, text_of
from ci.buildsystems.spec import PREFIX, PROGRAM, BuildSystem, Results

# Meson's results (mtest's TestResult names).
STATUS: dict[str, Status] = {
    "OK": "passed",
    "EXPECTEDFAIL": "passed",
    "SKIP": "skipped",
    "FAIL": "failed",
    "UNEXPECTEDPASS": "failed",
    "TIMEOUT": "failed",
    "INTERRUPT": "failed",
    "ERROR": "failed",
}


def from_testlog(testlog: str) -> list[Case]:
    """meson-logs/testlog.json: one JSON object per test run, in the order they ended."""
    return [_case(json.loads(line)) for line in testlog.splitlines() if line.strip()]


def _case(entry: dict[str, object]) -> Case:
    result = str(entry.get("result", "ERROR"))
    output = str(entry.get("stdout") or "") + str(entry.get("stderr") or "")
    status = STATUS.get(result, "failed")
    message = "" if status == "passed" else f"{result} (exit status {entry.get('returncode')})"
    if status == "skipped":
        message = "SKIP"
        # A test Meson did not run because it cannot execute a cross-built binary (no exe_wrapper)
        # is logged as SKIP with no command (Meson 1.7; a test's own exit 77 keeps its command):
        # not a skip the project chose, so a failure here.
        if entry.get("command", []) is None:
            status = "failed"
            message = "not run: Meson cannot execute the cross-built binary (no exe_wrapper)"
    duration = entry.get("duration")
    return Case(
        name=str(entry.get("name", "?")),
        status=status,
        seconds=float(duration) if isinstance(duration, int | float) else 0.0,
        message=message,
        output=output,
    )


def read(build_dir: Path, fresh: float) -> list[Case] | None:
    testlog = build_dir / "meson-logs" / "testlog.json"
    return from_testlog(text_of(testlog)) if is_fresh(testlog, fresh) else None


SPEC = BuildSystem(
    name="meson",
    markers=("meson.build",),
    packages=("meson", "python3"),
    layer="build-systems",
    test_command="meson test",
    cross="the cross file /opt/ci/meson-cross.ini (compilers through ccache, exe_wrapper QEMU)",
    build_types=(
        "debug",
        "plain",
        "debugoptimized",
        "release",
        "minsize",
    ),  # meson setup --buildtype; its default first
    results=(Results(tool="meson", read=read),),
    programs={"meson": "meson", "ninja": "ninja-build"},
    missing_program=(
        # A required find_program: "Program help2man found: NO", then
        # "meson.build:3:0: ERROR: Program 'help2man' not found or not executable".
        re.compile(rf"ERROR: Program '(?P<meson_program>{PROGRAM})' not found or not executable"),
        # The project's own error() naming the program it did not find.
        re.compile(
            rf"^{PREFIX}Program (?P<meson_named>{PROGRAM}) found: NO\b[^\n]*\n(?:[^\n]*\n)*?"
            r"[^\n]*ERROR: [^\n]*\b(?P=meson_named)\b",
            re.MULTILINE,
        ),
    ),
    missing_library=(
        # 'meson.build:2:7: ERROR: Dependency "zlib" not found, tried pkgconfig and system'.
        re.compile(r'ERROR: Dependency "(?P<meson>[^"]+)" not found'),
    ),
)
