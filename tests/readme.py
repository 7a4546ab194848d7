"""Reading the README's marked command blocks, for the tests that keep it true."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def block(marker: str) -> list[str]:
    """Command lines of the fenced block between <!-- marker --> and <!-- /marker -->."""
    text = README.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("```")]
