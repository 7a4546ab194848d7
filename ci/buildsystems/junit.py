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
    # Its earlier attempts that failed, where its failures were run again (--retries): passed at
    # last, it is flaky; failed every time, they are its reruns' failures.
    reruns: tuple[Case, ...] = ()
    quarantined: bool = False  # its failure does not fail the run (the project's quarantine)

    @property
    def flaky(self) -> bool:
        return self.status == "passed" and bool(self.reruns)


def to_junit(tool: str, platform: str, cases: Sequence[Case]) -> str:
    """One <testsuite> named `<tool>.<platform>`, each case's class `<platform>.<name>`."""
    suite = ET.Element(
        "testsuite",
        name=f"{tool}.{platform}",
        tests=str(len(cases)),
        failures=str(sum(c.status == "failed" and not c.quarantined for c in cases)),
        skipped=str(sum(c.status == "skipped" or c.quarantined for c in cases)),
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
        if case.quarantined:
            ET.SubElement(element, "skipped", message=f"quarantined: {message or 'failed'}")
        elif case.status == "failed":
            ET.SubElement(element, "failure", message=message or "failed").text = message
        elif case.status == "skipped":
            ET.SubElement(element, "skipped", message=message or "skipped")
        add_reruns(element, case)
        if case.output:
            ET.SubElement(element, "system-out").text = safe(case.output[-OUTPUT_KEPT:])
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def add_reruns(element: ET.Element, case: Case) -> None:
    """Maven Surefire's rerun elements (read by Jenkins' Flaky Test Handler plugin and other test
    report tools): a flaky test's failed attempts as <flakyFailure>, a test that failed every
    time its reruns (after the <failure> of its first run) as <rerunFailure>, each with that
    attempt's output."""
    tag = "flakyFailure" if case.flaky else "rerunFailure"
    for attempt in case.reruns:
        said = safe(attempt.message)
        rerun = ET.SubElement(element, tag, message=said or "failed", type="failure")
        ET.SubElement(rerun, "stackTrace").text = said
        if attempt.output:
            ET.SubElement(rerun, "system-out").text = safe(attempt.output[-OUTPUT_KEPT:])


def from_junit(xml_text: str, platform: str) -> list[Case]:
    """The cases of JUnit XML (ctest's, labelled per platform): name, status, time, the failure's
    message, the output; the class under `<platform>.` where it is not the name."""
    root = ET.fromstring(xml_text)  # noqa: S314 (a test runner's own output)
    cases: list[Case] = []
    for element in root.iter("testcase"):
        name = element.get("name", "?")
        group = element.get("classname", "").removeprefix(f"{platform}.")
        bad = next((child for child in element if child.tag in ("failure", "error")), None)
        skipped = element.find("skipped")
        out = element.find("system-out")
        message = "" if bad is None else (bad.get("message") or bad.text or "").strip()
        status: Status = "failed" if bad is not None else "skipped" if skipped is not None else "passed"
        cases.append(
            Case(
                name=name,
                status=status,
                seconds=float(element.get("time") or 0),
                message=message,
                output=(out.text or "") if out is not None else "",
                group="" if group == name else group,
                reruns=tuple(rerun_cases(element, name)),
            )
        )
    return cases


def rerun_cases(element: ET.Element, name: str) -> list[Case]:
    """A <testcase>'s <flakyFailure> and <rerunFailure> children, as the failed attempts they are."""
    found = []
    for rerun in element:
        if rerun.tag in ("flakyFailure", "rerunFailure"):
            out = rerun.find("system-out")
            said = rerun.get("message", "")
            found.append(
                Case(
                    name=name,
                    status="failed",
                    message=said,
                    output=(out.text or "") if out is not None else "",
                )
            )
    return found


# The message of a failed attempt that ran several tests at a time, where the test passed alone.
IN_PARALLEL = "failed running with others, passed alone: "


def merged(attempts: Sequence[Sequence[Case]], alone: int = 0) -> list[Case]:
    """The cases of a run whose failed tests were run again: the first attempt's, each that
    failed replaced by its last attempt (later attempts hold the tests run again), with the
    failed ones before it as reruns. alone: the attempt (1-based) that ran the first one's
    failures each alone, after it ran tests several at a time: a test that passed then has its
    first failure said to be IN_PARALLEL."""
    if not attempts:
        return []
    if alone == 2 and len(attempts) > 1:
        passed_alone = {(c.name, c.group) for c in attempts[1] if c.status == "passed"}
        attempts = [
            [
                dataclasses.replace(c, message=IN_PARALLEL + (c.message or "failed"))
                if c.status == "failed" and (c.name, c.group) in passed_alone
                else c
                for c in attempts[0]
            ],
            *attempts[1:],
        ]
    merged_cases: list[Case] = []
    for case in attempts[0]:
        failed = [case]  # its attempts, up to the one that passed
        for attempt in attempts[1:] if case.status == "failed" else ():
            again = next((c for c in attempt if c.name == case.name and c.group == case.group), None)
            if again is None:
                break
            failed.append(again)
            if again.status != "failed":
                break
        if failed[-1].status == "failed":  # every attempt failed: the first is the failure
            merged_cases.append(dataclasses.replace(failed[0], reruns=tuple(failed[1:])))
        else:  # passed at last: the failed attempts before it
            merged_cases.append(dataclasses.replace(failed[-1], reruns=tuple(failed[:-1])))
    return merged_cases


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
