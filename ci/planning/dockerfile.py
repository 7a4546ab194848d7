"""Read Dockerfile text: instructions as logical lines, what COPY and ADD read, and the steps
images built from the same first lines share."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterator

# Debian's image tags -> the suite each is (the base images bootstrapped, the compilers a suite has)
SUITES = {
    "bookworm": "bookworm",
    "12": "bookworm",
    "bookworm-slim": "bookworm",
    "trixie": "trixie",
    "13": "trixie",
    "trixie-slim": "trixie",
    "bullseye": "bullseye",
    "11": "bullseye",
    "bullseye-slim": "bullseye",
    "sid": "sid",
    "unstable": "sid",
}


def debian_suite(text: str) -> str:
    """The Debian suite of a Dockerfile's last FROM (debian:trixie, arm64v8/debian:13, ...), or ''."""
    suite = ""
    for line in logical_lines(text):
        words = line.split()
        if words[0].upper() != "FROM":
            continue
        image = next((w for w in words[1:] if not w.startswith("--")), "")
        name, _, tag = image.rpartition(":")
        suite = SUITES.get(tag, "") if name.rsplit("/", 1)[-1] == "debian" else ""
    return suite


# `# escape=` among the parser directives, which come first, before any other comment or line
ESCAPE_DIRECTIVE = re.compile(
    r"\A(?:[ \t]*#[ \t]*[a-z]+[ \t]*=.*\n)*[ \t]*#[ \t]*escape[ \t]*=", re.IGNORECASE
)


def instructions(text: str) -> Iterator[tuple[str, int]]:
    """Each instruction with its continuation lines joined and comments dropped, and the number of
    raw lines up to its end (so a prefix can be cut from the text as written)."""
    current, number = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker skips these, even inside a continuation
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        yield current + stripped, number
        current = ""
    if current.strip():
        yield current, number


def logical_lines(text: str) -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    return [line for line, _ in instructions(text)]


def copied_sources(dockerfile_text: str) -> list[str]:
    """Context paths (or URLs) that COPY and ADD instructions read, in order."""
    sources: list[str] = []
    for line in logical_lines(dockerfile_text):
        keyword, *remainder = line.split(None, 1)
        if keyword.upper() not in ("COPY", "ADD"):
            continue
        rest = remainder[0].strip() if remainder else ""
        flags: list[str] = []
        while rest.startswith("--"):  # flags come first, before either form of the arguments
            flag, *after = rest.split(None, 1)
            flags.append(flag)
            rest = after[0].strip() if after else ""
        if any(f.startswith("--from") for f in flags):
            continue  # copies from another build stage, not from the context
        paths = [str(a) for a in json.loads(rest)] if rest.startswith("[") else shlex.split(rest)
        sources.extend(paths[:-1])
    return sources


def shared_layer_steps(text: str) -> list[str]:
    """The Dockerfile cut where other images built from the same first lines may share its
    layers, so that one build makes each such step and the others take it from the cache: after
    each RUN that more instructions follow, and before each RUN that other instructions (COPY,
    ENV, ...) lead up to. Without the second, two images whose RUNs differ there (cross_toolchain.sh
    armv7 and s390x) would each make those instructions' layers at once, and a later build would
    find one's RUN and not the other's under the newest of them. None for a multi-stage
    Dockerfile or one with parser directives (an escape character of its own would change where
    instructions end)."""
    if ESCAPE_DIRECTIVE.match(text):
        return []
    ends = [(line.split(None, 1)[0].upper(), end) for line, end in instructions(text)]
    if sum(keyword == "FROM" for keyword, _ in ends) != 1:
        return []
    cuts: list[int] = []
    for index, (keyword, end) in enumerate(ends):
        if keyword != "RUN":
            continue
        if index and ends[index - 1][0] not in ("FROM", "RUN"):
            cuts.append(ends[index - 1][1])
        if index < len(ends) - 1:
            cuts.append(end)
    lines = text.splitlines(keepends=True)  # cut as written: the builder's cache matches what it parses
    steps: list[str] = []
    for end in cuts:
        step = "".join(lines[:end])
        if any(reads_context_root(source) for source in copied_sources(step)):
            break  # the SDK ships a Dockerfile from outside the context under a random name there
        steps.append(step)
    return steps


def reads_context_root(source: str) -> bool:
    """Whether a COPY or ADD source takes in files at the top of the build context."""
    name = posixpath.normpath(source.strip())
    return name in (".", "/") or ("/" not in name.strip("/") and any(c in name for c in "*?["))


def with_build_arg(text: str, name: str, value: str) -> str:
    """text with `ARG name=value` after each FROM: every RUN of every stage has it in its
    environment, and no image keeps it (an ARG is not an ENV). Unchanged where the Dockerfile
    declares name itself (ARG or ENV), which then decides."""
    if any(
        line.split()[0].upper() in ("ARG", "ENV") and _declares(line, name) for line in logical_lines(text)
    ):
        return text
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for line, end in reversed(list(instructions(text))):
        if line.split(None, 1)[0].upper() == "FROM":
            lines.insert(end, f"ARG {name}={value}\n")
    return "".join(lines)


def _declares(instruction: str, name: str) -> bool:
    """Whether an ARG or ENV instruction sets name (`ARG NAME`, `ARG NAME=x`, `ENV NAME x`, ...)."""
    words = instruction.split()[1:]
    return any(word.split("=", 1)[0] == name for word in words)
