"""The README is a front page (at most 300 lines) that links every page of docs/, and every link
between them lands on a file that exists."""

from __future__ import annotations

import re

from tests.readme import DOCS, FRONT, REPO

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_a_front_page_that_links_every_page_of_docs() -> None:
    assert len(FRONT.splitlines()) <= 300
    assert sorted(DOCS) == sorted((REPO / "docs").glob("*.md"))


def test_every_local_link_lands_on_a_file() -> None:
    for page in [REPO / "README.md", *DOCS]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: {target}"
