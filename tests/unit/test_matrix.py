"""`--list-json`: the CI matrix, with each platform's runner chosen from its target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.cli import main
from ci.planning.matrix import matrix_json, runner_for
from ci.planning.platforms import discover

REPO = Path(__file__).resolve().parents[2]


def test_runner_follows_the_target_architecture() -> None:
    assert runner_for("linux/arm64") == "ubuntu-24.04-arm"
    assert runner_for("linux/arm/v7") == "ubuntu-24.04-arm"
    for target in ("linux/amd64", "linux/386", "linux/s390x", "linux/ppc64le", "linux/riscv64"):
        assert runner_for(target) == "ubuntu-24.04"


def test_matrix_of_this_repository() -> None:
    platforms = discover(REPO / "docker")
    include = json.loads(matrix_json(list(platforms.values())))["include"]
    assert [e["platform"] for e in include] == list(platforms)
    runners = {e["platform"]: e["runner"] for e in include}
    arm = {name for name, p in platforms.items() if p.target.startswith(("linux/arm64", "linux/arm/"))}
    assert arm >= {"arm64", "armv7", "test.arm64", "test.armv7"}
    assert {name for name, runner in runners.items() if runner == "ubuntu-24.04-arm"} == arm
    assert {e["platform"] for e in include if not e["release"]} == {"test.arm64", "test.armv7"}
    ways = {e["platform"]: e["way"] for e in include}  # ARM jobs build natively on their runners
    assert ways["arm64"] == ways["test.arm64"] == ways["amd64"] == "native"
    assert ways["armv7"] == "cross" and ways["s390x"] == ways["riscv64"] == "cross + qemu-user"


def test_list_json_prints_one_line_for_the_platforms_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-json", "-p", "amd64,armv7"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "include": [
            {"platform": "amd64", "runner": "ubuntu-24.04", "way": "native", "release": True},
            {"platform": "armv7", "runner": "ubuntu-24.04-arm", "way": "cross", "release": True},
        ]
    }
