"""Reading the README's and docs/'s marked command blocks and tables, for the tests that keep
them true."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The front page, and the documentation in the order the front page links it.
FRONT = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = tuple(dict.fromkeys(REPO / link for link in re.findall(r"\]\((docs/[\w-]+\.md)\)", FRONT)))
# Everything a user reads: the front page, then each page of docs/ (the tables and marked blocks
# the tests check are in one or the other).
README = "\n".join([FRONT, *(page.read_text(encoding="utf-8") for page in DOCS)])


def block(marker: str) -> list[str]:
    """Command lines of the fenced block between <!-- marker --> and <!-- /marker -->."""
    text = README.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("```")]


@dataclasses.dataclass(frozen=True)
class Table:
    line: int  # 1-based line of the header row
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _cells(line: str) -> tuple[str, ...]:
    """The cells of a Markdown table row; `\\|` is a literal bar inside a cell."""
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return tuple(cell.strip() for cell in re.split(r"(?<!\\)\|", inner))


def tables(text: str = README) -> list[Table]:
    """Every Markdown table outside fenced blocks: header cells and body rows."""
    found: list[Table] = []
    lines = text.splitlines()
    fenced = False
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            fenced = not fenced
        elif not fenced and lines[i].startswith("|") and i + 1 < len(lines) and SEPARATOR.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            found.append(Table(i + 1, _cells(lines[i]), tuple(_cells(row) for row in lines[i + 2 : end])))
            i = end
            continue
        i += 1
    return found


SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
