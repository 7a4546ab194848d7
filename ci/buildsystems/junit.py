"""Know: a test case as every build system's results reader gives it, and JUnit XML labelled per
platform (pure: cases in, XML out).

Every suite is named `<tool>.<platform>` and every test class prefixed `<platform>.`, as ctest's
XML is, so one Jenkins junit step over several platforms keeps them apart.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

Status = Literal["passed", "failed", "skipped"]
OUTPUT_KEPT = 64 * 1024  # characters of a test's output kept in the XML (its end)
# Characters XML 1.0 cannot hold at all (terminal escapes in a test's output, say): shown as '?'.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    status: Status
    seconds: float = 0.0
    message: str = ""
    output: str = ""
    group: str = ""  # the test's class under the platform, when not its name (DejaGnu: its .exp)


def to_junit(tool: str, platform: str, cases: Sequence[Case]) -> str:
    """One <testsuite> named `<tool>.<platform>`, each case's class `<platform>.<name>`."""
    suite = ET.Element(
        "testsuite",
        name=f"{tool}.{platform}",
        tests=str(len(cases)),
        failures=str(sum(c.status == "failed" for c in cases)),
        skipped=str(sum(c.status == "skipped" for c in cases)),
        errors="0",
        time=f"{sum(c.seconds for c in cases):.3f}",
    )
    for case in cases:
        name, message = safe(case.name), safe(case.message)
        element = ET.SubElement(
            suite,
            "testcase",
            name=name,
            classname=f"{platform}.{safe(case.group or case.name)}",
            time=f"{case.seconds:.3f}",
        )
        if case.status == "failed":
            ET.SubElement(element, "failure", message=message or "failed").text = message
        elif case.status == "skipped":
            ET.SubElement(element, "skipped", message=message or "skipped")
        if case.output:
            ET.SubElement(element, "system-out").text = safe(case.output[-OUTPUT_KEPT:])
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def safe(text: str) -> str:
    """text with what XML 1.0 cannot hold shown as '?'."""
    return NOT_XML.sub("?", text)


def is_fresh(path: Path, fresh: float) -> bool:
    """Whether path is a file this run wrote (modified at or after `fresh`, epoch seconds)."""
    return path.is_file() and path.stat().st_mtime >= fresh


def text_of(path: Path) -> str:
    """A file's text, undecodable bytes replaced; '' when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
