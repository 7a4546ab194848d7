"""Decide how a run's report reads as GitHub-flavoured Markdown (the job summary under GitHub
Actions): a headline, then per platform, failures first, a one-row table and what a failure left
to read. Pure; everything taken from the run is escaped, so it shows as text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # report imports this module to render
    from ci.output.report import Entry, Report

MESSAGE_CHARS = 300  # of a failed test's message, on its one line
TAIL_LINES = 20  # last output lines per failed platform
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def text(value: object) -> str:
    """Inline text shown as it is: HTML's specials as entities (GitHub would drop a tag), Markdown's
    punctuation backslash-escaped (so `|` never ends a table cell), one line."""
    s = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    return " ".join(s.split())


def fenced(lines: list[str]) -> str:
    """A code block no line of it can close: its fence is longer than any run of backticks in it."""
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence + "text", *lines, fence])


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


HEADER = [
    "status",
    "time",
    "way",
    "build system",
    "tests passed / failed / skipped",
    "ccache hit rate",
    "image",
]


def platform_part(e: Entry) -> str:
    mark = "✅" if e.passed else "❌"
    tests = f"{e.tests.passed} / {e.tests.failed} / {e.tests.skipped}" if e.tests else "-"
    cells = [
        e.status,
        f"{e.seconds:.1f} s",
        e.way or "-",
        e.build_system or "-",
        tests,
        e.cache,
        e.image or "-",
    ]
    out = [
        f"### {mark} {text(e.platform)}",
        "",
        row([text(c) for c in HEADER]),
        row(["---"] * len(HEADER)),
        row([text(c) if c else "-" for c in cells]),
        "",
    ]
    if e.failures:
        out.append(f"Failed tests ({len(e.failures)}):")
        out.append("")
        for f in e.failures:
            message = " ".join(f.message.split())[:MESSAGE_CHARS]
            out.append(f"- **{text(f.name)}**" + (f": {text(message)}" if message else ""))
        out.append("")
    out += [f"> hint: {text(hint)}" for hint in e.hints]
    out += [f"> {text(note)}" for note in e.notes]
    if e.hints or e.notes:
        out.append("")
    if e.coverage:
        out += [f"Coverage: {text(e.coverage)} ({text(e.coverage_href)})", ""]
    if e.slowest:
        slow = ", ".join(f"{text(name)} {seconds:.2f} s" for name, seconds in e.slowest)
        out += [f"Slowest tests: {slow}", ""]
    if e.tail and not e.passed:
        shown = list(e.tail[-TAIL_LINES:])
        out += [
            f"<details><summary>last {len(shown)} lines of its output</summary>",
            "",
            fenced(shown),
            "",
            "</details>",
            "",
        ]
    if e.log and not e.passed:
        out += [f"Full log: {text(e.log)}", ""]
    return "\n".join(out)


def render(report: Report) -> str:
    mark = "✅" if report.status == 0 else "❌"
    head = [
        f"## {mark} {text(report.title)}",
        "",
        f"{text(report.headline)}; took {report.seconds:.1f} s, exit status {report.status}.",
        "",
    ]
    if report.merged_coverage:
        head += [f"Coverage of every job together: {text(report.merged_coverage)}", ""]
    head.append("")
    return "\n".join(head) + "\n".join(platform_part(e) for e in report.entries) + "\n"
