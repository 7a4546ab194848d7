"""A run's fixed cost: ./build.py starts .venv's interpreter itself (never the python3 on PATH,
which may be a slow pyenv shim), and a run whose image is current never imports the Docker SDK
(its import cost more than every engine call of the run together)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.helpers import BUILD_PY

HEAVY = ("docker", "requests", "urllib3")


def run_directly(work: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """./build.py executed as a user types it (its #! line, not `python build.py`)."""
    full = {k: v for k, v in os.environ.items() if k != "CCACHE_DIR"} | env
    return subprocess.run(
        [str(BUILD_PY), "-p", "amd64", "--build-dir", str(work / "b"), *args],
        cwd=work, env=full, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def imported(stderr: str) -> set[str]:
    """Top-level modules Python reports importing (PYTHONPROFILEIMPORTTIME=1)."""
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.usefixtures("amd64_image")
def test_a_run_with_a_current_image_never_imports_the_docker_sdk(tmp_path: Path) -> None:
    result = run_directly(tmp_path, "--", "echo", "ran", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ran"
    modules = imported(result.stderr)
    assert "ci" in modules, "the import profile was not taken"
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.usefixtures("amd64_image")
def test_build_py_starts_the_projects_interpreter_without_python3_from_path(tmp_path: Path) -> None:
    """A python3 first on PATH that leaves a mark and fails: ./build.py must not need it."""
    shim = Path(tempfile.mkdtemp(prefix="ciharness-shim-"))
    mark = shim / "called"
    (shim / "python3").write_text(f"#!/bin/sh\ntouch {mark}\nexit 97\n")
    (shim / "python3").chmod(0o755)
    result = run_directly(tmp_path, "--", "echo", "ran", env={"PATH": f"{shim}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ran"
    assert not mark.exists(), "./build.py ran the python3 first on PATH"
