"""The README stays true: its quick start and usage commands run from a fresh clone.
(Its flag and exit-code tables are checked in tests/unit/test_readme_tables.py.)"""

from __future__ import annotations

import os
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.helpers import REPO, drive_pty
from tests.readme import block


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    return clone


def sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False
    )


@pytest.mark.early  # the longest test: every platform, from a fresh clone
@pytest.mark.usefixtures("amd64_image")
def test_quick_start_and_usage_commands_work_from_a_fresh_clone(fresh_clone: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    zlib_like = home / "src" / "zlib"
    zlib_like.mkdir(parents=True)
    (zlib_like / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(z C)\nenable_testing()\n"
        'file(WRITE ${CMAKE_BINARY_DIR}/t.c "int main(void){return 0;}")\n'
        "add_executable(t ${CMAKE_BINARY_DIR}/t.c)\nadd_test(NAME z.t COMMAND t)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CCACHE_DIR", "VIRTUAL_ENV")}
    env["HOME"] = str(home)

    first = sh(block("quickstart")[0], fresh_clone, env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (fresh_clone / ".venv" / "bin" / "python").exists()
    suite = ET.parse(fresh_clone / "build.amd64" / "junit" / "ctest-amd64.xml").getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 12

    expected = {"./build.py -l": 0, "./build.py -p amd64 -- bash -c 'exit 7'": 7}
    for command in block("usage"):
        if " -i" in command:
            status, shown = drive_pty(["bash", "-c", command], b"exit 4\n", cwd=fresh_clone, env=env)
            assert status == 4, shown
            continue
        result = sh(command, fresh_clone, env)
        assert result.returncode == expected.get(command, 0), f"{command}\n{result.stderr[-2000:]}"
        if command == "./build.py -l":
            assert "amd64" in result.stdout.split()
        if "--print-docker-run" in command:
            assert shlex.split(result.stdout)[-2:] == ["make", "check"]
    assert (fresh_clone / "build.zlib" / "junit" / "ctest-amd64.xml").is_file()

    # In the order written, in the same place, nothing removed in between: each platform has its
    # own build dir, so following the quick start with "Several platforms" just works.
    shown_machine = {"-p test.armv7": "armv7l", "--arch amd64": "x86_64"}
    for command in block("multiarch"):
        result = sh(command, fresh_clone, env)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
        for marker, machine in shown_machine.items():
            if marker in command:
                assert result.stdout.strip() == machine
        if command.startswith("./build.py -a"):
            assert "test.arm64" in result.stderr and "FAILED" not in result.stderr
            assert "[s390x] ==> phase: testing" in result.stderr  # through a pipe: prefixed lines
    for name in ("armv7", "s390x", "test.armv7"):  # each platform's log holds its whole last run
        assert "==> phase: testing" in (fresh_clone / f"build.{name}" / "build.log").read_text()
    assert (fresh_clone / "build.test.arm64" / "build.log").read_text().endswith("\nx86_64\n")


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_benchmark_command_runs_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [str(REPO / "tools" / "bench.py"), "--only", "P1", "--repeat", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    assert set(figures) == {"P1", "P4"}
    assert all(isinstance(f["met"], bool) for f in figures.values())
    # P1 is a difference of two medians, below zero when a loaded machine slows the docker CLI
    # more than build.py; its two sides and P4 (a duration) are above zero
    assert figures["P4"]["value"] > 0 and isinstance(figures["P1"]["value"], float)
    assert figures["P1"]["detail"]["build_py_s"] > 0 and figures["P1"]["detail"]["docker_run_s"] > 0
    assert "P1" in result.stdout and "machine:" in result.stdout
