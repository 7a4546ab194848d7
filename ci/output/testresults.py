"""Decide what each build system's tests did, as JUnit XML labelled per platform: Meson's
testlog.json, automake's .trs files, DejaGnu's .sum and .log files, a Make check target's record
(pure: text in, XML out).

Every suite is named `<tool>.<platform>` and every test class prefixed `<platform>.`, as ctest's
XML is, so one Jenkins junit step over several platforms keeps them apart.
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import Literal

Status = Literal["passed", "failed", "skipped"]
OUTPUT_KEPT = 64 * 1024  # characters of a test's output kept in the XML (its end)
# Characters XML 1.0 cannot hold at all (terminal escapes in a test's output, say): shown as '?'.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Meson's results (mtest's TestResult names) and automake's (the test driver's :test-result:).
MESON_STATUS: dict[str, Status] = {
    "OK": "passed",
    "EXPECTEDFAIL": "passed",
    "SKIP": "skipped",
    "FAIL": "failed",
    "UNEXPECTEDPASS": "failed",
    "TIMEOUT": "failed",
    "INTERRUPT": "failed",
    "ERROR": "failed",
}
AUTOMAKE_STATUS: dict[str, Status] = {
    "PASS": "passed",
    "XFAIL": "passed",
    "SKIP": "skipped",
    "FAIL": "failed",
    "XPASS": "failed",
    "ERROR": "failed",
}
# DejaGnu's result words (the `WORD: name` lines of a .sum file): an expected failure (XFAIL, and
# KFAIL, a known bug's) passes; an unexpected pass fails, as does a test that could not decide
# (UNRESOLVED) and a Tcl error in the .exp file; UNTESTED and UNSUPPORTED are skips.
DEJAGNU_STATUS: dict[str, Status] = {
    "PASS": "passed",
    "XFAIL": "passed",
    "KFAIL": "passed",
    "FAIL": "failed",
    "XPASS": "failed",
    "KPASS": "failed",
    "UNRESOLVED": "failed",
    "ERROR": "failed",
    "UNTESTED": "skipped",
    "UNSUPPORTED": "skipped",
}
DEJAGNU_RESULT = re.compile(rf"^({'|'.join(DEJAGNU_STATUS)}): (.*)$")
DEJAGNU_RUNNING = re.compile(r"^Running (\S+\.exp) \.\.\.$")
# What a .log says between tests that is no test's output: the end of an .exp file's run.
DEJAGNU_BETWEEN = re.compile(r"^(Running \S+\.exp \.\.\.|testcase \S+ completed in .*)$")


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
        name, message = _safe(case.name), _safe(case.message)
        element = ET.SubElement(
            suite,
            "testcase",
            name=name,
            classname=f"{platform}.{_safe(case.group or case.name)}",
            time=f"{case.seconds:.3f}",
        )
        if case.status == "failed":
            ET.SubElement(element, "failure", message=message or "failed").text = message
        elif case.status == "skipped":
            ET.SubElement(element, "skipped", message=message or "skipped")
        if case.output:
            ET.SubElement(element, "system-out").text = _safe(case.output[-OUTPUT_KEPT:])
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _safe(text: str) -> str:
    return NOT_XML.sub("?", text)


def from_meson(testlog: str) -> list[Case]:
    """meson-logs/testlog.json: one JSON object per test run, in the order they ended."""
    return [_meson_case(json.loads(line)) for line in testlog.splitlines() if line.strip()]


def _meson_case(entry: dict[str, object]) -> Case:
    result = str(entry.get("result", "ERROR"))
    output = str(entry.get("stdout") or "") + str(entry.get("stderr") or "")
    status = MESON_STATUS.get(result, "failed")
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


def from_automake(results: Iterable[tuple[str, str, str]]) -> list[Case]:
    """(test name, its .trs text, its .log text) for each test automake's harness ran; a TAP test
    has a :test-result: line per case, named `<test> <n>`."""
    cases: list[Case] = []
    for name, trs, log in results:
        found = [
            line.split(":", 2)[2].strip() for line in trs.splitlines() if line.startswith(":test-result:")
        ]
        for n, result in enumerate(found, start=1):
            word = result.split()[0] if result else "ERROR"
            status = AUTOMAKE_STATUS.get(word, "failed")
            cases.append(
                Case(
                    name=name if len(found) == 1 else f"{name} {n}",
                    status=status,
                    message="" if status == "passed" else result,
                    output=log,
                )
            )
    return cases


def from_make(record: str, log: str) -> list[Case]:
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


def is_dejagnu_sum(text: str) -> bool:
    """Whether a .sum file is DejaGnu's: it opens with `Test run by USER on DATE`."""
    return text.lstrip().startswith("Test run by ")


def from_dejagnu(tool: str, summary: str, log: str) -> list[Case]:
    """A DejaGnu tool's results: each `WORD: name` line of its .sum file, classed under the .exp
    file that ran it (`<tool>.<exp's stem>`), a failure carrying what its .log says before it."""
    outputs = _dejagnu_outputs(log)
    cases: list[Case] = []
    group = tool
    for line in summary.splitlines():
        running = DEJAGNU_RUNNING.match(line.strip())
        if running:
            group = f"{tool}.{running.group(1).rsplit('/', 1)[-1].removesuffix('.exp')}"
            continue
        found = DEJAGNU_RESULT.match(line.rstrip())
        if not found:
            continue
        word, name = found.groups()
        status = DEJAGNU_STATUS[word]
        cases.append(
            Case(
                name=name.strip() or word,
                status=status,
                message="" if word == "PASS" else f"{word}: {name.strip()}",
                output=outputs.get(line.rstrip(), "") if status != "passed" else "",
                group=group,
            )
        )
    return cases


def _dejagnu_outputs(log: str) -> dict[str, str]:
    """Each result line of a DejaGnu .log -> the lines logged since the result before it."""
    found: dict[str, str] = {}
    since: list[str] = []
    for line in log.splitlines():
        if DEJAGNU_RESULT.match(line.rstrip()):
            found.setdefault(line.rstrip(), "\n".join([*since, line]))
            since = []
        elif DEJAGNU_BETWEEN.match(line.strip()):
            since = []
        else:
            since.append(line)
    return found
