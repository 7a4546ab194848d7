"""Which build system builds a tree: recognised from its root's files in one documented order,
named by --build-system, or refused before any container starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci import buildsystems
from ci.errors import ExitCode, NoBuildSystemError
from ci.planning import runplan
from tests.unit.helpers import plan, shared


@pytest.mark.parametrize(
    ("files", "system", "reason"),
    [
        (["CMakeLists.txt"], "cmake", "CMakeLists.txt"),
        (["meson.build"], "meson", "meson.build"),
        (["configure"], "autotools", "configure"),
        (["configure.ac", "Makefile.am"], "autotools", "configure.ac"),
        (["configure.in"], "autotools", "configure.in"),
        (["Makefile"], "make", "Makefile"),
        (["makefile"], "make", "makefile"),
        (["GNUmakefile", "Makefile"], "make", "GNUmakefile"),
        # Several: the documented order decides.
        (["Makefile", "CMakeLists.txt", "meson.build"], "cmake", "CMakeLists.txt"),
        (["Makefile", "meson.build", "configure.ac"], "meson", "meson.build"),
        (["Makefile", "configure", "configure.ac"], "autotools", "configure"),
    ],
)
def test_the_first_marker_in_order_decides(files: list[str], system: str, reason: str) -> None:
    assert buildsystems.recognise(set(files)) == buildsystems.Choice(system=system, reason=reason)


def test_a_tree_with_none_is_one_line_naming_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("x", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text("x", encoding="utf-8")  # not at the root
    with pytest.raises(NoBuildSystemError) as info:
        buildsystems.choose(tmp_path, "auto")
    assert info.value.code == ExitCode.NO_BUILD_SYSTEM
    assert int(info.value.code) == 86
    message = info.value.message
    assert "\n" not in message and str(tmp_path) in message
    for marker in ("CMakeLists.txt", "meson.build", "configure.ac", "Makefile"):
        assert marker in message
    assert info.value.hint


def test_the_setting_names_one_whatever_the_tree_holds(tmp_path: Path) -> None:
    (tmp_path / "CMakeLists.txt").write_text("x", encoding="utf-8")
    assert buildsystems.choose(tmp_path, "make") == buildsystems.Choice(
        system="make", reason="--build-system"
    )
    assert buildsystems.choose(tmp_path, "auto").system == "cmake"


def test_the_default_step_carries_the_choice_into_the_container(project: Path) -> None:
    (project / "src" / "meson.build").write_text("project('p', 'c')\n", encoding="utf-8")
    inv = plan(project, "-p", "amd64", "--test-jobs", "3")
    assert inv.platforms[0].project.build == buildsystems.Choice(system="cmake", reason="CMakeLists.txt")
    spec = runplan.spec_for(
        shared(inv), inv.platforms[0], source_mode="read-only", emulated=False, engine_limits={}
    )
    env = dict(spec.env)
    assert env["CI_BUILD_SYSTEM"] == "cmake" and env["CI_TEST_JOBS"] == "3"
    chosen = plan(project, "-p", "amd64", "--build-system", "meson")
    assert chosen.platforms[0].project.build == buildsystems.Choice(system="meson", reason="--build-system")


def test_a_tree_without_one_is_refused_only_for_the_default_step(project: Path) -> None:
    (project / "src" / "CMakeLists.txt").unlink()
    with pytest.raises(NoBuildSystemError):
        plan(project, "-p", "amd64")
    with pytest.raises(NoBuildSystemError):
        plan(project, "-p", "amd64", "--print-docker-run")
    # Any command, a named function or a shell builds however it likes.
    for argv in (["--", "make"], ["step"], ["-i"]):
        inv = plan(project, "-p", "amd64", *argv)
        assert inv.platforms[0].project.build is None
        spec = runplan.spec_for(
            shared(inv), inv.platforms[0], source_mode="read-only", emulated=False, engine_limits={}
        )
        assert "CI_BUILD_SYSTEM" not in dict(spec.env)
        assert dict(spec.env)["CI_TEST_JOBS"] == ""
