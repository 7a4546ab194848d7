"""The house in layers: each package of ci/ imports only the packages below its own (the table
LAYERS, bottom first), never one above, and no two import each other; imports under
`if TYPE_CHECKING:` (types only) are left out. Deciding code (planning) runs no subprocess and
writes no file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CI = Path(__file__).resolve().parents[2] / "ci"

# Bottom first. The top-level modules errors.py and __init__.py (REPO_ROOT) are the ground floor;
# cli.py is the roof.
LAYERS = (
    "errors",  # error classes and their exit codes
    "base",  # processes and the machine's locks
    "buildsystems",  # what the harness knows of each build system
    "settings",  # the command line, the settings table, the project file, host facts
    "planning",  # pure: the whole invocation as data
    "engine",  # talking to container engines
    "images",  # finding, building, bootstrapping images
    "release",  # pushing images and manifest lists
    "output",  # logs, board, outcomes, hints, reports
    "running",  # executing the plan
    "cli",  # argv to exit code
)


def package_of(path: Path) -> str:
    parts = path.relative_to(CI).with_suffix("").parts
    return "errors" if parts == ("__init__",) else parts[0]


def runtime_imports(tree: ast.Module) -> list[str]:
    """The ci packages a module imports when it runs (TYPE_CHECKING blocks left out)."""
    found: list[str] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module == "ci":
                    found.extend("errors" if a.name == "REPO_ROOT" else a.name for a in child.names)
                elif child.module.startswith("ci."):
                    found.append(child.module.split(".")[1])
            elif isinstance(child, ast.Import):
                found.extend(a.name.split(".")[1] for a in child.names if a.name.startswith("ci."))
            walk(child)

    walk(tree)
    return found


def test_every_package_is_a_layer() -> None:
    packages = {p.name for p in CI.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in CI.glob("*.py")} - {"__init__"}
    assert packages | modules == set(LAYERS)


def test_no_package_imports_one_above_its_own() -> None:
    upward: list[str] = []
    for module in sorted(CI.rglob("*.py")):
        own = package_of(module)
        for target in runtime_imports(ast.parse(module.read_text(encoding="utf-8"))):
            if LAYERS.index(target) > LAYERS.index(own):
                upward.append(f"{module.relative_to(CI)} ({own}) imports {target}")
    assert upward == []


# What a module that runs a program or writes a file says: reading files is deciding's business
# (a Dockerfile, the project file), changing them is not.
DOING = re.compile(
    r"^\s*(?:import subprocess|from subprocess )|\bos\.(?:system|replace|rename|remove|makedirs)\("
    r"|\.(?:write_text|write_bytes|mkdir|touch|unlink|rmdir|symlink_to)\(|\bshutil\.(?:rmtree|copy\w*|move)\("
    r"|\bopen\([^)]*[\"'][wax]b?\+?[\"']",
    re.MULTILINE,
)


def test_planning_runs_no_subprocess_and_writes_no_file() -> None:
    found = [
        f"{module.relative_to(CI)}: {match.group(0).strip()}"
        for module in sorted((CI / "planning").glob("*.py"))
        for match in DOING.finditer(module.read_text(encoding="utf-8"))
    ]
    assert found == []
    # The pattern sees what it is for.
    assert DOING.search("import subprocess\n") and DOING.search("x.write_text('a')")
    assert DOING.search("with open(path, 'w') as f:") and not DOING.search("open(path, 'rb')")
