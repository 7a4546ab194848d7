"""Read what a sanitizer said in a failed test's output: its kind and the first frames in the
project's own code (`AddressSanitizer: heap-buffer-overflow in heap_oob planted.c:3`), for the
failure digest, the report and the JUnit failure message beside the test's name; and write that
message into the run's JUnit files."""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

# ASan, LSan, TSan, MSan: `==12==ERROR: AddressSanitizer: heap-buffer-overflow on address ...`,
# `WARNING: ThreadSanitizer: data race (pid=7)`, `==9==WARNING: MemorySanitizer: use-of-...`
HEADER = re.compile(r"(?:ERROR|WARNING): (\w+Sanitizer): ([\w-]+(?: [\w-]+)*?)(?: on | \(|$)")
# UBSan: `/work/src/planted.c:4:31: runtime error: signed integer overflow: 2147483647 + 1 ...`
UBSAN = re.compile(r"(\S+?):(\d+):\d+: runtime error: ([^:\n]+)")
# A stack frame: `#0 0x55d5 in heap_oob /work/src/planted.c:3` (ASan, UBSan, LSan, MSan) or
# `#0 worker /work/src/race.c:5 (race+0x12e9)` (TSan); the file relative where the build named it
# so (Meson: ../src/planted.c)
FRAME = re.compile(r"^\s*#\d+ (?:0x[0-9a-f]+ in )?(\S+) ([^\s(]+?\.\w+):(\d+)(?::\d+)?(?:\s|$)")
# Frames in the sanitizers' runtimes and the C library are not the project's.
RUNTIME = ("/libsanitizer/", "/compiler-rt/", "/sanitizer_common/", "libc.so", "libc_start", "/glibc")
FRAMES = 2


def finding(output: str) -> str:
    """The first sanitizer finding in output, one line, or ''."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        header = HEADER.search(line)
        if header:
            where = project_frames(lines[index + 1 :])
            return f"{header.group(1)}: {header.group(2)}" + (f" in {where}" if where else "")
        ubsan = UBSAN.search(line)
        if ubsan:
            where = project_frames(lines[index + 1 :]) or f"{Path(ubsan.group(1)).name}:{ubsan.group(2)}"
            return f"UndefinedBehaviorSanitizer: {ubsan.group(3).strip()} in {where}"
    return ""


def project_frames(lines: list[str]) -> str:
    """The first frames of the report that lines begin with that are in the project's code
    (function file:line, file by its name), up to FRAMES; '' where there are none."""
    frames: list[str] = []
    for line in lines:
        if HEADER.search(line) or UBSAN.search(line):
            break  # the next report
        found = FRAME.match(line)
        if found is None or any(part in found.group(2) for part in RUNTIME):
            continue
        frames.append(f"{found.group(1)} {Path(found.group(2)).name}:{found.group(3)}")
        if len(frames) == FRAMES:
            break
    return ", ".join(frames)


def annotate_junit(build_dir: Path, fresh: float) -> None:
    """Each failed test case of this run's junit/*.xml whose output holds a sanitizer finding
    gets it as its failure's message (the CI server shows it beside the test's name)."""
    for xml_file in sorted((build_dir / "junit").glob("*.xml")):
        with contextlib.suppress(ValueError, SyntaxError, OSError):
            if xml_file.stat().st_mtime < fresh:
                continue
            tree = ET.parse(xml_file)  # noqa: S314 (this run's own test results)
            if annotate(tree.getroot()):
                tree.write(xml_file, encoding="utf-8", xml_declaration=True)


def annotate(root: ET.Element) -> bool:
    """Set the findings as failure messages in a JUnit tree; whether any was set."""
    changed = False
    for case in root.iter("testcase"):
        bad = case.find("failure")
        bad = case.find("error") if bad is None else bad
        out = case.find("system-out")
        said = finding(out.text or "") if bad is not None and out is not None else ""
        if bad is not None and said and bad.get("message") != said:
            bad.set("message", said)
            changed = True
    return changed
