"""The project file (ciharness.toml): read and checked against the settings table, layered under the
environment and the command line, per-platform tables, and the project's own image."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ci.errors import (
    ExitCode,
    ImageBuildError,
    PackageUnavailableError,
    PreBuildError,
    ProjectFileError,
    ProjectKeyError,
    ProjectValueError,
    UnknownPlatformError,
)
from ci.images.projectbuild import classified
from ci.planning import projectimage, runplan
from ci.planning.projectsettings import ImageNeeds
from ci.planning.runspec import ImageRef
from ci.settings import projectfile, table
from tests.readme import README, tables
from tests.unit.helpers import plan

TYPE_WORDS = {"list": "list", "str": "string", "bool": "boolean", "int": "number", "table": "table"}


def write(project: Path, text: str) -> Path:
    path = project / "src" / projectfile.FILE_NAME
    path.write_text(text, encoding="utf-8")
    return path


def parsed(text: str) -> projectfile.ProjectFile:
    return projectfile.parse(text, Path("/p/ciharness.toml"))


def env_of(project: Path, *argv: str, platform: int = 0, env: dict[str, str] | None = None) -> dict[str, str]:
    inv = plan(project, *argv, env=env)
    assert inv.run is not None
    spec = runplan.spec_for(inv.run, inv.platforms[platform], source_mode="read-only", emulated=False,
                            engine_limits={})  # fmt: skip
    return dict(spec.env)


# -- the README ------------------------------------------------------------------------------------


def test_the_readme_key_table_is_the_settings_tables_project_keys() -> None:
    (found,) = [t for t in tables() if t.header == ("key", "type", "meaning")]
    documented = {row[0].strip("`"): row[1] for row in found.rows}
    keys = projectfile.project_keys()
    assert set(documented) == set(keys)
    for name, setting in keys.items():
        assert documented[name] == TYPE_WORDS[setting.type], name


def test_the_readme_example_is_a_valid_project_file() -> None:
    text = README.split("<!-- project-file -->", 1)[1].split("<!-- /project-file -->", 1)[0]
    toml = text.split("```toml", 1)[1].split("```", 1)[0]
    project = parsed(toml)
    assert project.top["packages"] == ["zlib1g-dev"]
    assert project.for_platform("s390x")["test-args"] == ["--timeout", "600"]
    assert "test-args" not in project.for_platform("armv7")


# -- bad files: one line each, with its own code -----------------------------------------------------


def test_a_file_that_is_not_toml_names_its_line() -> None:
    with pytest.raises(ProjectFileError) as caught:
        parsed('packages = ["zlib1g-dev"]\nbuild-system = cmake\n')
    assert caught.value.message.startswith("/p/ciharness.toml:2: not valid TOML")
    assert caught.value.code == ExitCode.PROJECT_FILE_INVALID
    with pytest.raises(ProjectFileError, match=r"^/p/ciharness.toml:2: not valid TOML: Unclosed array$"):
        parsed('tests = true\npackages = ["zlib1g-dev"\n')
    assert int(caught.value.code) == 88


def test_an_unknown_key_names_the_closest_valid_one_and_its_line() -> None:
    with pytest.raises(ProjectKeyError) as caught:
        parsed('\nbuild-system = "cmake"\npakages = ["zlib1g-dev"]\n')
    assert caught.value.message == "/p/ciharness.toml:3: unknown key 'pakages' in the top level"
    assert caught.value.hint.startswith("did you mean 'packages'?")
    assert caught.value.code == 89
    with pytest.raises(ProjectKeyError, match=r":3: unknown key 'test-arg' in \[platform.armv7\]") as caught:
        parsed('tests = true\n[platform.armv7]\ntest-arg = ["-V"]\n')
    assert "did you mean 'test-args'?" in caught.value.hint
    with pytest.raises(ProjectKeyError, match="'platforms' in") as caught:
        parsed('[platform.armv7]\nplatforms = ["armv7"]\n')
    assert "top level" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('packages = "zlib1g-dev"', "packages must be a list of strings, not a string"),
        ("tests = 0", "tests must be true or false, not a number"),
        ('build-system = "scons"', "build-system must be one of auto, cmake, meson, autotools, make"),
        ("test-jobs = 0", "test-jobs must be a whole number of at least 1"),
        ('environment = ["A=1"]', "environment must be a table"),
        ('[environment]\n"BAD NAME" = "x"', "environment has a bad variable 'BAD NAME'"),
        ("[environment]\nFLAG = true", "environment has a bad variable 'FLAG'"),
        ('configure-args = ["a\\nb"]', "configure-args items must be one line each"),
        ("platform = 3", "'platform' holds one table per platform"),
    ],
)
def test_a_value_of_the_wrong_type_says_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(ProjectValueError) as caught:
        parsed(text + "\n")
    assert expected in caught.value.message
    assert caught.value.code == 90 and caught.value.hint.startswith("e.g.")


def test_a_pre_build_command_may_span_lines() -> None:
    assert parsed('pre-build = ["""\nset -x\nmake install\n"""]\n').top["pre-build"] == [
        "set -x\nmake install\n"
    ]


def test_a_wrong_value_in_a_platform_table_names_that_tables_line() -> None:
    with pytest.raises(ProjectValueError, match=r"ciharness.toml:5: tests must be true or false"):
        parsed('tests = true\n\n[platform.amd64]\n\ntests = "no"\n')


def test_a_platform_table_must_name_a_platform(project: Path) -> None:
    write(project, 'packages = ["zlib1g-dev"]\n\n[platform.arm46]\ntests = false\n')
    with pytest.raises(
        UnknownPlatformError, match=r"ciharness.toml:3: \[platform.arm46\] names no platform"
    ) as c:
        plan(project, "-p", "amd64")
    assert "did you mean 'arm64'?" in c.value.hint


def test_a_project_file_named_but_missing_is_refused(project: Path) -> None:
    with pytest.raises(ProjectFileError, match="does not exist"):
        plan(project, "-p", "amd64", "--project-file", str(project / "nope.toml"))


def test_every_project_key_is_a_setting_and_has_its_help() -> None:
    for name, setting in projectfile.project_keys().items():
        assert setting is table.by_name(name) and (setting.project_help or setting.help)


# -- layering --------------------------------------------------------------------------------------


def test_the_project_sits_under_the_environment_and_the_command_line(project: Path) -> None:
    write(project, 'build-system = "meson"\ntest-jobs = 2\n')
    assert env_of(project, "-p", "amd64")["CI_BUILD_SYSTEM"] == "meson"
    assert env_of(project, "-p", "amd64")["CI_TEST_JOBS"] == "2"
    assert env_of(project, "-p", "amd64", "--test-jobs", "5")["CI_TEST_JOBS"] == "5"
    assert env_of(project, "-p", "amd64", "--build-system", "make")["CI_BUILD_SYSTEM"] == "make"
    inv = plan(project, "-p", "amd64")
    assert inv.platforms[0].project.build is not None
    assert inv.platforms[0].project.build.reason == str(project / "src" / "ciharness.toml")


def test_a_platform_table_changes_that_platform_only(project: Path) -> None:
    write(
        project,
        'configure-args = ["-DA=1"]\n[platform.arm64]\n'
        'configure-args = ["-DB=2", "-DC=x y"]\ntests = false\n',
    )
    inv = plan(project, "-p", "amd64,arm64")
    by_name = {r.platform.name: r.project for r in inv.platforms}
    assert by_name["amd64"].configure_args == ("-DA=1",) and by_name["amd64"].tests
    assert by_name["arm64"].configure_args == ("-DB=2", "-DC=x y") and not by_name["arm64"].tests
    assert env_of(project, "-p", "amd64,arm64", platform=1)["CI_CONFIGURE_ARGS"] == "-DB=2\n-DC=x y"
    # What the command line sets, a platform table cannot override.
    write(project, '[platform.arm64]\nbuild-system = "make"\n')
    assert env_of(project, "-p", "arm64")["CI_BUILD_SYSTEM"] == "make"
    assert env_of(project, "-p", "arm64", "--build-system", "cmake")["CI_BUILD_SYSTEM"] == "cmake"


def test_the_projects_environment_goes_under_minus_e(project: Path) -> None:
    write(project, '[environment]\nCFLAGS = "-O1"\nLEVEL = 3\n')
    env = env_of(project, "-p", "amd64")
    assert (env["CFLAGS"], env["LEVEL"]) == ("-O1", "3")
    assert env_of(project, "-p", "amd64", "-e", "CFLAGS=-O3")["CFLAGS"] == "-O3"


def test_the_projects_platforms_run_when_none_is_named(project: Path) -> None:
    write(project, 'platforms = ["arm64", "amd64"]\n')
    assert [r.platform.name for r in plan(project).platforms] == ["arm64", "amd64"]
    assert [r.platform.name for r in plan(project, "-p", "other").platforms] == ["other"]
    assert len(plan(project, "-a").platforms) == 3


# -- the project's image ---------------------------------------------------------------------------

BASE = ImageRef(repository="ciharness/armv7", tag="0123456789abcdef")


def test_the_project_image_is_tagged_by_its_base_and_its_needs() -> None:
    needs = ImageNeeds(packages=("libssl-dev", "zlib1g-dev"), build_packages=("xxd",))
    first = projectimage.plan("armv7", BASE, needs)
    assert first is not None and first.ref.repository == "ciharness/armv7"
    assert first.ref.tag.startswith("0123456789abcdef-project-")
    assert projectimage.plan("armv7", BASE, needs) == first  # stable
    other_base = ImageRef(repository="ciharness/armv7", tag="fedcba9876543210")
    changed = [
        projectimage.plan("armv7", other_base, needs),
        projectimage.plan("armv7", BASE, ImageNeeds(packages=("zlib1g-dev",), build_packages=("xxd",))),
        projectimage.plan("armv7", BASE, ImageNeeds(packages=needs.packages, pre_build=("true",))),
        projectimage.plan("armv7", BASE, ImageNeeds(build_packages=(*needs.packages, "xxd"))),
    ]
    assert len({c.ref.tag for c in changed if c} | {first.ref.tag}) == 5
    assert projectimage.plan("armv7", BASE, ImageNeeds()) is None


def test_the_same_set_of_packages_in_any_order_shares_one_image(project: Path) -> None:
    write(project, 'packages = ["zlib1g-dev", "libssl-dev", "zlib1g-dev"]\n')
    first = plan(project, "-p", "amd64").platforms[0]
    write(project, 'packages = ["libssl-dev", "zlib1g-dev"]\n')
    second = plan(project, "-p", "amd64").platforms[0]
    assert first.project_image is not None and first.image == second.image
    assert first.platform_image is not None and first.image != first.platform_image
    assert first.project.needs.packages == ("libssl-dev", "zlib1g-dev")


def test_no_needs_runs_the_platforms_own_image(project: Path) -> None:
    write(project, 'configure-args = ["-DX=1"]\n')
    run = plan(project, "-p", "amd64").platforms[0]
    assert run.project_image is None and run.platform_image is None


def test_the_context_holds_the_script_the_lists_and_one_file_per_command() -> None:
    image = projectimage.plan("armv7", BASE, ImageNeeds(packages=("zlib1g-dev",), pre_build=("a", "b c")))
    assert image is not None
    files = image.context_files()
    assert files["project/packages"] == b"zlib1g-dev\n" and files["project/build-packages"] == b""
    assert files["project/pre-build/001.sh"] == b"a\n" and files["project/pre-build/002.sh"] == b"b c\n"
    assert files["Dockerfile"].decode().startswith(f"FROM {BASE}\n")
    assert files["project/project_image.sh"] == projectimage.SCRIPT.read_bytes()
    labels = image.labels()
    assert labels["io.ciharness.content-hash"] == BASE.tag  # pruned with its platform's image
    assert tomllib.loads("x = 1")  # (tomllib is what reads the project file)


def test_what_project_image_sh_said_becomes_the_projects_error() -> None:
    image = projectimage.plan("s390x", BASE, ImageNeeds(packages=("zlib1g-dev",)))
    assert image is not None
    generic = ImageBuildError("building failed")
    missing = classified(
        "x\nciharness-project: missing packages: zlib1g-devv:s390x (for s390x)\n", image, generic
    )
    assert isinstance(missing, PackageUnavailableError) and int(missing.code) == 91
    assert missing.message.startswith("s390x: no Debian package zlib1g-devv:s390x for s390x")
    absent = classified(
        "ciharness-project: not served: libc6:s390x zlib1g:s390x (for s390x)\n", image, generic
    )
    assert isinstance(absent, PackageUnavailableError)
    assert "lists libc6:s390x zlib1g:s390x for s390x but serves no file" in absent.message
    failed = classified("ciharness-project: pre-build failed: 2 3 exit 3\n", image, generic)
    assert isinstance(failed, PreBuildError) and int(failed.code) == 92
    assert failed.message == "s390x: pre-build command 2 ('exit 3') failed with status 3"
    assert classified("E: something else\n", image, generic) is generic
