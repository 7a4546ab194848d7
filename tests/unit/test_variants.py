"""The project file's [variant.<name>] tables and `variants`, --variant, and what a job of a
variant is told: checked before anything runs, each bad input its own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.errors import ExitCode, ProjectKeyError, UnknownVariantError
from ci.planning import matrix
from ci.planning.platforms import Platform
from ci.planning.projectsettings import for_platform, setting_for, variants_of
from ci.settings import projectfile
from ci.settings.options import parse_args

FILE = """\
platforms = ["amd64"]
variants = ["asan"]
configure-args = ["-DTOP=1"]

[variant.asan]
sanitize = ["address"]
build-type = "Debug"

[variant.clang]
compiler = "clang"
configure-args = ["-DCLANG=1"]

[platform.amd64]
configure-args = ["-DAMD64=1"]
"""


def project(tmp_path: Path, text: str = FILE) -> projectfile.ProjectFile:
    path = tmp_path / "ciharness.toml"
    path.write_text(text)
    return projectfile.parse(text, path)


def test_variant_tables_are_read_in_order(tmp_path: Path) -> None:
    found = project(tmp_path)
    assert list(found.variants) == ["asan", "clang"]
    assert found.variants["asan"] == {"sanitize": ["address"], "build-type": "Debug"}
    assert found.top["variants"] == ["asan"]


def test_a_key_a_variant_cannot_hold_is_one_line_naming_the_table(tmp_path: Path) -> None:
    with pytest.raises(ProjectKeyError) as caught:
        project(tmp_path, '[variant.asan]\nsanitise = ["address"]\n')
    assert caught.value.code == ExitCode.PROJECT_KEY_UNKNOWN
    assert "ciharness.toml:2: unknown key 'sanitise' in [variant.asan]" in caught.value.message
    assert "did you mean 'sanitize'?" in caught.value.hint
    with pytest.raises(ProjectKeyError) as caught:
        project(tmp_path, '[variant.asan]\npackages = ["zlib1g-dev"]\n')
    assert "a variant says only" in caught.value.hint


def test_the_project_files_variants_run_unless_the_command_line_names_others(tmp_path: Path) -> None:
    opts = parse_args(["-p", "amd64"], project=project(tmp_path))
    assert variants_of(opts) == ("asan",)
    opts = parse_args(["-p", "amd64", "--variant", "clang,asan"], project=project(tmp_path))
    assert variants_of(opts) == ("clang", "asan")
    opts = parse_args(["-p", "amd64", "--variant", "all"], project=project(tmp_path))
    assert variants_of(opts) == ("asan", "clang")
    assert variants_of(parse_args(["-p", "amd64"])) == ("",)


def test_an_unknown_variant_names_those_there_are(tmp_path: Path) -> None:
    opts = parse_args(["-p", "amd64", "--variant", "asn"], project=project(tmp_path))
    with pytest.raises(UnknownVariantError) as caught:
        variants_of(opts)
    assert caught.value.code == ExitCode.UNKNOWN_VARIANT
    assert int(caught.value.code) == 98
    assert "no variant 'asn'" in caught.value.message
    assert "did you mean 'asan'?" in caught.value.hint and "asan, clang" in caught.value.hint


def test_a_variants_value_is_over_the_platforms_and_under_the_command_line(tmp_path: Path) -> None:
    opts = parse_args(["-p", "amd64"], project=project(tmp_path))
    assert setting_for(opts, "amd64", "configure-args") == ["-DAMD64=1"]
    assert setting_for(opts, "amd64", "configure-args", "clang") == ["-DCLANG=1"]
    assert setting_for(opts, "amd64", "configure-args", "asan") == ["-DAMD64=1"]
    pinned = parse_args(["-p", "amd64", "--compiler", "gcc-13"], project=project(tmp_path))
    assert setting_for(pinned, "amd64", "compiler", "clang") == "gcc-13"


def test_a_variants_toolchain_reaches_its_job(tmp_path: Path) -> None:
    opts = parse_args(["-p", "amd64"], project=project(tmp_path))
    (tmp_path / "CMakeLists.txt").write_text("project(x C)\n")
    asan = for_platform(opts, "amd64", tmp_path, default_step=True, suite="trixie", variant="asan")
    assert asan.env()["CI_SANITIZE"] == "address" and asan.env()["CI_BUILD_TYPE"] == "Debug"
    clang = for_platform(opts, "amd64", tmp_path, default_step=True, suite="trixie", variant="clang")
    assert clang.env()["CI_COMPILER"] == "clang-19" and clang.needs.toolchain == ("compiler clang 19",)


def test_the_job_matrix_has_an_entry_per_platform_and_variant() -> None:
    amd64 = Platform(name="amd64", dockerfile=Path("/d/Dockerfile.build.amd64"))
    text = matrix.matrix_json([amd64], ("asan", "clang"))
    assert text.count('"platform":"amd64"') == 2
    assert '"variant":"asan"' in text and '"variant":"clang"' in text
    assert '"variant"' not in matrix.matrix_json([amd64])
