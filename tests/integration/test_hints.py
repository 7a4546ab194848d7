"""Failures that say what to do: each known cause, from a real failing run through build.py, adds
its one hint line after the failure, and the run's own exit status stays what it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_build_py


def failing_run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(tmp_path / "b"), "--ccache-dir", str(tmp_path / "c"), *args,
        cwd=tmp_path,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_configure_writing_into_a_read_only_source_points_at_the_source_modes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(renames NONE)\n"
        "file(RENAME ${CMAKE_SOURCE_DIR}/a.h.in ${CMAKE_SOURCE_DIR}/a.h)\n"
    )
    (src / "a.h.in").write_text("\n")
    status, shown = failing_run(tmp_path, "--source", str(src), "--source-mode", "read-only")
    assert status == 1, shown
    assert "Read-only file system" in shown
    assert "hint: a write failed on a read-only file system" in shown and "--writable-source" in shown


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_project_needing_a_newer_cmake_names_both_versions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 99.1)\nproject(future NONE)\n")
    status, shown = failing_run(tmp_path, "--source", str(src))
    assert status == 1, shown
    assert "hint: the project needs CMake 99.1 or newer and this image has CMake 3." in shown


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_run_killed_like_the_oom_killer_does_suggests_fewer_jobs(tmp_path: Path) -> None:
    status, shown = failing_run(tmp_path, "--", "sh", "-c", "kill -9 $$")
    assert status == 137, shown
    assert "hint: the run ran out of memory" in shown and "--build-jobs" in shown


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_binary_the_kernel_cannot_run_points_at_the_binfmt_handlers(tmp_path: Path) -> None:
    # An ELF header for a machine no binfmt handler serves: the kernel refuses it.
    script = (
        "printf '\\177ELF\\002\\001\\001' > /tmp/x && head -c 64 /dev/zero >> /tmp/x"
        " && chmod +x /tmp/x && /tmp/x"
    )
    status, shown = failing_run(tmp_path, "--", "bash", "-c", script)
    assert status == 126, shown
    assert "exec format error" in shown.lower()
    assert (
        "hint: a binary of a foreign architecture could not be run" in shown
        and "scripts/provision.sh" in shown
    )


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_a_successful_run_gets_no_hint(tmp_path: Path) -> None:
    status, shown = failing_run(tmp_path, "--", "sh", "-c", "echo Read-only file system")
    assert status == 0 and "hint:" not in shown
