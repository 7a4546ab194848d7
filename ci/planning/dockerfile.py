"""Read Dockerfile text: instructions as logical lines, and what COPY and ADD read."""

from __future__ import annotations

import json
import shlex


def logical_lines(text: str) -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker skips these, even inside a continuation
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current.strip():
        lines.append(current)
    return lines


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
