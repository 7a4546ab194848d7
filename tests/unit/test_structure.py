"""The package stays a house a newcomer can walk: a few modules at the top, the rest in
subpackages that say their job, no module over 350 lines and no function over 60."""

from __future__ import annotations

import ast
from pathlib import Path

CI = Path(__file__).resolve().parents[2] / "ci"


def test_few_modules_at_the_top_and_every_subpackage_says_its_job() -> None:
    assert len(list(CI.glob("*.py"))) <= 15
    for init in CI.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "\n" not in doc.strip(), f"{init}: one line saying the subpackage's job"


def test_no_module_over_350_lines_and_no_function_over_60() -> None:
    too_long: list[str] = []
    for module in sorted(CI.rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        if len(text.splitlines()) > 350:
            too_long.append(f"{module.relative_to(CI)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    too_long.append(f"{module.relative_to(CI)}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []


def test_every_module_opens_with_its_job() -> None:
    for module in sorted(CI.rglob("*.py")):
        assert ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))), module
