"""An engine that does not answer is reported quickly, clearly, with its own exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_build_py, snapshot


@pytest.mark.serial  # timed: within 5 s
def test_unreachable_engine_exits_69_within_5_seconds(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "keep.txt").write_text("user data")
    before = snapshot(tmp_path)
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(build), "--", "true",
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"},
    )  # fmt: skip
    assert result.returncode == 69
    assert result.seconds < 5
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("build.py: cannot reach the Docker engine")
    assert "scripts/provision.sh" in result.stderr
    assert snapshot(tmp_path) == before
