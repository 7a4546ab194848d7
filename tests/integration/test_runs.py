"""Runs against the real engine: the default build, exit codes, functions, env, source trees."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.helpers import REPO, run_build_py, snapshot


def common(dirs: dict[str, Path]) -> list[str]:
    return ["--build-dir", str(dirs["build"]), "--ccache-dir", str(dirs["ccache"])]


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_default_run_builds_xsum_and_passes_ctest_with_junit(dirs: dict[str, Path]) -> None:
    result = run_build_py("-p", "amd64", *common(dirs), cwd=dirs["cwd"])
    assert result.returncode == 0, result.stderr[-3000:]
    junit = dirs["build"] / "junit" / "ctest-amd64.xml"
    suite = ET.parse(junit).getroot()
    assert int(suite.get("tests", "0")) >= 12
    assert suite.get("failures") == "0"
    names = {case.get("name") for case in suite.iter("testcase")}
    assert {"vectors.strings", "vectors.sanity", "vectors.million", "cli.crc32c"} <= names
    described = subprocess.run(
        ["file", str(dirs["build"] / "xsum")], capture_output=True, text=True, check=True
    )
    assert "ELF 64-bit LSB" in described.stdout and "x86-64" in described.stdout
    assert any(dirs["ccache"].rglob("*")), "ccache dir stayed empty: compiles did not go through ccache"


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
@pytest.mark.parametrize("status", [0, 1, 7, 255])
def test_exit_status_of_the_command_is_build_py_exit_status(dirs: dict[str, Path], status: int) -> None:
    result = run_build_py("-p", "amd64", *common(dirs), "--", "bash", "-c", f"exit {status}")
    assert result.returncode == status


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_runtime_function_with_arguments_runs(dirs: dict[str, Path]) -> None:
    result = run_build_py("-p", "amd64", *common(dirs), "describe_platform")
    assert result.returncode == 0, result.stderr
    assert "platform=amd64 machine=x86_64" in result.stdout


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_env_values_keep_equals_signs_and_reach_the_container(dirs: dict[str, Path]) -> None:
    result = run_build_py(
        "-p", "amd64", *common(dirs), "-e", "CMAKE_ARGS=-DA=B=C", "-e", "EMPTY=",
        "--", "sh", "-c", 'printf "%s|%s|%s" "$CMAKE_ARGS" "${EMPTY-unset}" "$CI_PLATFORM"',
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "-DA=B=C||amd64"


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_mounts_user_and_workdir_are_the_documented_ones(dirs: dict[str, Path]) -> None:

    script = "id -u; id -g; pwd; test -w /work/build && echo build-rw; touch /work/src/x && echo src-rw"
    result = run_build_py("-p", "amd64", *common(dirs), "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(os.getuid()), str(os.getgid()), "/work/build", "build-rw", "src-rw"]
    # Copy-on-write: the write landed in the build dir, not in the source tree.
    assert not (REPO / "xsum" / "x").exists()
    assert (dirs["build"] / ".ciharness-source" / "changes" / "x").is_file()
    read_only = run_build_py(
        "-p", "amd64", *common(dirs), "--source-mode", "read-only", "--", "sh", "-c", script
    )
    assert read_only.returncode != 0 and "Read-only file system" in read_only.stderr


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_source_option_builds_another_cmake_tree_and_adds_nothing_to_it(
    dirs: dict[str, Path], tmp_path: Path
) -> None:
    src = tmp_path / "other"
    (src / "src").mkdir(parents=True)
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(other CXX)\nenable_testing()\n"
        "add_library(shout src/shout.cpp)\nadd_executable(shout_test src/shout_test.cpp)\n"
        "target_link_libraries(shout_test shout)\nadd_test(NAME shout.upper COMMAND shout_test)\n"
        "add_test(NAME shout.twice COMMAND shout_test twice)\n"
    )
    (src / "src" / "shout.cpp").write_text(
        "#include <string>\n#include <cctype>\n"
        "std::string shout(std::string s) { for (auto &c : s) c = (char)std::toupper(c); return s; }\n"
    )
    (src / "src" / "shout_test.cpp").write_text(
        "#include <string>\nstd::string shout(std::string);\n"
        "int main(int argc, char **) {\n"
        '  return shout(argc > 1 ? "ab" : "hi") == (argc > 1 ? "AB" : "HI") ? 0 : 1;\n}\n'
    )
    before = snapshot(src)
    result = run_build_py("-p", "amd64", *common(dirs), "--source", str(src))
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(src) == before
    suite = ET.parse(dirs["build"] / "junit" / "ctest-amd64.xml").getroot()
    assert {c.get("name") for c in suite.iter("testcase")} == {"shout.upper", "shout.twice"}
    assert suite.get("failures") == "0"


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_build_dir_never_mixes_two_source_trees(dirs: dict[str, Path], tmp_path: Path) -> None:
    first = run_build_py("-p", "amd64", *common(dirs), "--", "true")
    assert first.returncode == 0
    before = snapshot(dirs["build"])
    other = tmp_path / "elsewhere"
    other.mkdir()
    second = run_build_py("-p", "amd64", *common(dirs), "--source", str(other), "--", "true")
    assert second.returncode == 73
    assert "refusing to mix" in second.stderr
    assert snapshot(dirs["build"]) == before


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_default_build_dir_is_build_dot_platform_under_cwd_with_its_log(tmp_path: Path) -> None:
    result = run_build_py(
        "-p", "amd64", "--ccache-dir", str(tmp_path / "cc"), "--", "echo", "to the log too", cwd=tmp_path
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "build.amd64" / ".ciharness-platform").read_text().startswith("platform=amd64\n")
    assert "to the log too" in (tmp_path / "build.amd64" / "build.log").read_text().splitlines()
    assert not (tmp_path / "build").exists()
    assert REPO.exists()
