"""The settings table: one name and one default per setting, resolved in one place in the order
defaults < project file < environment < command line, from the environment it is given."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ci import REPO_ROOT
from ci.errors import ExitCode, UsageError
from ci.settings import table
from ci.settings.flags import build_parser
from ci.settings.options import Options, parse_args
from ci.settings.projectfile import ProjectFile


def top(values: dict[str, object]) -> ProjectFile:
    """A project file's top level as the settings layer gets it (resolve checks only names)."""
    return ProjectFile(path=Path("/p/ciharness.toml"), top=values)


def remote(argv: list[str], env: dict[str, str], project: dict[str, object]) -> str:
    return parse_args(["-l", *argv], env, top(project)).ccache_remote


def test_a_project_value_beats_the_default_and_loses_to_env_and_argv() -> None:
    project: dict[str, object] = {"ccache-remote": "redis://project:1"}
    env = {"CI_CCACHE_REMOTE": "redis://env:1"}
    assert remote([], {}, {}) == ""
    assert remote([], {}, project) == "redis://project:1"
    assert remote([], env, project) == "redis://env:1"
    assert remote(["--ccache-remote", "redis://argv:1"], env, project) == "redis://argv:1"
    assert remote(["--ccache-remote", ""], env, project) == ""  # '' on the command line: none
    assert parse_args(["-l"], {}, top({"ccache-max-size": "2G"})).ccache_max_size == "2G"
    assert (
        parse_args(["-l", "--ccache-max-size", "3G"], {}, top({"ccache-max-size": "2G"})).ccache_max_size
        == "3G"
    )


def test_an_empty_variable_counts_as_unset() -> None:
    assert remote([], {"CI_CCACHE_REMOTE": ""}, {"ccache-remote": "redis://project:1"}) == "redis://project:1"


def test_only_the_given_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in table.settings():
        if setting.env:
            monkeypatch.setenv(setting.env, "/from/os/environ")
    opts = parse_args(["-l"], {})
    assert opts.ccache_remote == "" and opts.engines is None and opts.ccache_dir is None
    assert opts.debian_mirror == table.by_name("debian-mirror").default
    assert parse_args(["-l"], {"CI_ENGINES_FILE": "e.toml"}).engines == Path("e.toml")
    assert parse_args(["-l"], {"CI_INSECURE_ENGINES": "1"}).insecure_engines == "1"


def test_an_unknown_project_setting_is_refused() -> None:
    with pytest.raises(UsageError, match="ccache-maxsize"):
        parse_args(["-l"], {}, top({"ccache-maxsize": "1G"}))


def test_options_has_one_field_per_setting_named_as_in_the_table() -> None:
    fields = {f.name for f in dataclasses.fields(Options)}
    assert fields == {s.attr for s in table.settings()} | {"words", "raw", "project", "pinned"}
    assert len({s.name for s in table.settings()}) == len(table.settings())


def test_every_setting_is_well_formed() -> None:
    flags = [f for s in table.settings() for f in s.flags]
    assert len(flags) == len(set(flags))
    for s in table.settings():
        assert s.type in table.TYPES, s.name
        assert s.help, s.name
        assert (s.group is None) == (not s.flags), s.name  # on the command line iff in a --help group
        assert s.group is None or s.group in table.groups(), s.name
        assert s.choices is None or s.default is None or s.default in s.choices, s.name
        assert s.flags or s.env or s.project, (
            f"{s.name}: neither a flag, a variable nor the project file sets it"
        )


def test_defaults_come_from_the_table() -> None:
    opts = parse_args(["-l"])
    assert opts.lock_timeout == 3600.0 and opts.ccache_max_size == "10G"
    assert opts.source == REPO_ROOT / "xsum" and opts.docker_dir == REPO_ROOT / "docker"


@pytest.mark.parametrize("literal", ['"10G"', "3600", '"xsum"', "deb.debian.org", '"runtime_functions.sh"'])
def test_each_default_is_written_once(literal: str) -> None:
    """A default in the table is not written again in the package's Python."""
    found = [p for p in (REPO_ROOT / "ci").rglob("*.py") if literal in p.read_text(encoding="utf-8")]
    assert found == []


def test_help_shows_each_default_from_the_table() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "(default: 3600)" in text and "(default: 10G)" in text and "(default: xsum/" in text


def test_help_lists_every_exit_code_with_its_meaning() -> None:
    text = " ".join(build_parser().format_help().split())
    epilog = text.split("exit codes:", 1)[1]
    for code in ExitCode:
        assert f" {int(code)} {code.meaning}" in epilog, code.name
    assert "128+N killed by signal N" in epilog


def test_flags_keep_their_behaviour() -> None:
    opts = parse_args(["-p", "a,b", "-p", "c", "-e", "A=1", "-e", "B=2", "--build-jobs", "3", "-j", "2"])
    assert (opts.platforms, opts.env, opts.build_jobs, opts.jobs) == (["a", "b", "c"], ["A=1", "B=2"], 3, 2)
    assert parse_args(["-p", "a", "--writable-source"]).source_mode == "writable"
    assert parse_args(["-p", "a", "--source-mode", "read-only"]).source_mode == "read-only"
    assert parse_args(["-p", "a", "--writable-source", "--source-mode", "writable"]).source_mode == "writable"
    with pytest.raises(UsageError, match="contradict"):
        parse_args(["-p", "a", "--writable-source", "--source-mode", "read-only"])
    with pytest.raises(UsageError, match="invalid choice"):
        parse_args(["-p", "a", "--engine", "lxc"])
    with pytest.raises(UsageError, match="is not a size"):
        parse_args(["-p", "a"], {}, top({"ccache-max-size": "lots"}))
