"""The command line: parsing, defaults, build dirs, and main()'s exit codes for bad input.

main() is only driven here as far as it gets without an engine: every case fails before
ci.engine.client would connect (the conftest makes connecting fail the test).
"""

from __future__ import annotations

import platform as platform_module
import re
from pathlib import Path

import pytest

from ci import REPO_ROOT
from ci.cli import main
from ci.errors import BuildDirConflictError, ExitCode, UsageError
from ci.planning.builddirs import BUILD_DIR_STAMP, build_dir_for, check_build_dir, stamp_text
from ci.planning.platforms import Platform
from ci.settings.host import default_ccache_dir, default_jobs, default_parallel
from ci.settings.options import Options, parse_args

ANSI = re.compile(r"\x1b\[[0-9;]*m")
GiB = 1 << 30


def platform(name: str) -> Platform:
    return Platform(name=name, dockerfile=Path(f"/docker/Dockerfile.build.{name}"))


# -- parse_args -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "platforms"),
    [
        (["-p", "amd64"], ["amd64"]),
        (["--platform", "amd64"], ["amd64"]),
        (["-p", "amd64", "-p", "armv7"], ["amd64", "armv7"]),
        (["-p", "armv7,arm64", "-p", "s390x"], ["armv7", "arm64", "s390x"]),
        (["-p", " armv7 , ,arm64,"], ["armv7", "arm64"]),
        (["-parmv7"], ["armv7"]),
    ],
)
def test_platforms_are_repeatable_and_comma_separated(argv: list[str], platforms: list[str]) -> None:
    assert parse_args(argv).platforms == platforms


def test_everything_after_double_dash_is_the_command_verbatim() -> None:
    opts = parse_args(["-p", "amd64", "--", "make", "-p", "x", "--help", "-e", "A", "--", "-i"])
    assert opts.raw == ["make", "-p", "x", "--help", "-e", "A", "--", "-i"]
    assert opts.platforms == ["amd64"]
    assert opts.env == []
    assert opts.interactive is False
    assert opts.words == []


def test_without_double_dash_there_is_no_raw_command() -> None:
    assert parse_args(["-p", "amd64"]).raw == []


def test_function_words_and_options_intermix() -> None:
    opts = parse_args(["unittest_xsum", "-p", "amd64", "arg1", "--writable-source", "arg2"])
    assert opts.words == ["unittest_xsum", "arg1", "arg2"]
    assert opts.writable_source is True


def test_env_values_keep_their_equals_signs() -> None:
    opts = parse_args(["-p", "amd64", "-e", "CMAKE_ARGS=-DFOO=ON", "--env", "EMPTY="])
    assert opts.env == ["CMAKE_ARGS=-DFOO=ON", "EMPTY="]


def test_defaults() -> None:
    opts = parse_args(["-p", "amd64"])
    assert opts.docker_dir == REPO_ROOT / "docker"
    assert opts.runtime_functions == REPO_ROOT / "runtime_functions.sh"
    assert opts.source == REPO_ROOT / "xsum"
    assert opts.lock_timeout == 3600.0
    assert (opts.ccache_max_size, opts.source_mode, opts.engine, opts.progress) == (
        "10G",
        "copy-on-write",
        "auto",
        "auto",
    )
    assert (opts.build_only, opts.run_only, opts.interactive, opts.all) == (False, False, False, False)
    assert (opts.build_dir, opts.ccache_dir, opts.build_jobs, opts.jobs) == (None, None, None, None)


@pytest.mark.parametrize(
    "argv",
    [["-l"], ["--list"], ["--cleanup"], ["-a"], ["-a", "-j", "2"], ["--list-json"]],
)
def test_no_platform_needed(argv: list[str]) -> None:
    assert parse_args(argv).platforms == []


@pytest.mark.parametrize(
    ("argv", "in_message"),
    [
        ([], "no platform given"),
        (["-e", "A=1"], "no platform given"),
        (["-p", "amd64", "-b", "-R"], "contradict"),
        (["-p", "amd64", "--build-only", "--run-only"], "contradict"),
        (["-a", "-p", "amd64"], "contradict"),
        (["-p", "amd64", "--bogus"], "--bogus"),
        (["-p", "amd64", "-Z"], "-Z"),
        (["-p", "amd64", "--build-jobs", "0"], "--build-jobs must be at least 1"),
        (["-p", "amd64", "--build-jobs", "-3"], "--build-jobs must be at least 1"),
        (["-p", "amd64", "--build-jobs", "two"], "invalid int value"),
        (["-a", "-j", "0"], "-j/--jobs must be at least 1"),
        (["-p", "amd64", "--timeout", "0"], "--timeout must be more than 0"),
        (["-p", "amd64", "--"], "nothing after '--'"),
        (["-p"], "expected one argument"),
        (["-p", "amd64", "--release", "1", "--push", "r/x", "--manifest", "1"], "contradict"),
        (["-p", "amd64", "--manifest", "1"], "go together"),
        (["-p", "amd64", "--push", "r/x"], "go together"),
        (["-p", "amd64", "--no-manifest"], "--no-manifest goes with --release"),
        (["-p", "amd64", "--manifest", "1", "--push", "r/x", "-b"], "only joins images"),
        (["-p", "amd64", "--manifest", "1", "--push", "r/x", "--", "true"], "only joins images"),
        (["--manifest", "1", "--push", "r/x"], "no platform given"),
        (["--list-json", "--", "true"], "only prints the platforms"),
    ],
)
def test_usage_errors(argv: list[str], in_message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_args(argv)
    assert in_message in info.value.message


# -- default_ccache_dir -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({"CCACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}, "/c"),
        ({"CCACHE_DIR": "/c"}, "/c"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/ciharness/ccache"),
        ({"CCACHE_DIR": "", "XDG_CACHE_HOME": "/x"}, "/x/ciharness/ccache"),  # empty means unset
        ({}, "HOME/.cache/ciharness/ccache"),
        ({"XDG_CACHE_HOME": ""}, "HOME/.cache/ciharness/ccache"),
    ],
)
def test_default_ccache_dir(tmp_path: Path, env: dict[str, str], want: str) -> None:
    """$CCACHE_DIR is the ccache-dir setting's variable; without it, the host's cache dir."""
    home = tmp_path / "home"
    chosen = parse_args(["-l"], env).ccache_dir or default_ccache_dir(env, home)
    assert chosen == Path(want.replace("HOME", str(home)))


# -- build_dir_for ----------------------------------------------------------------------------


def options(*extra: str) -> Options:
    return parse_args(["-p", "amd64", *extra])


@pytest.mark.parametrize(
    ("extra", "several", "want"),
    [
        ([], False, "CWD/build.test.armv7"),
        ([], True, "CWD/build.test.armv7"),
        (["--build-dir", "out"], False, "CWD/out"),
        (["--build-dir", "out/b"], True, "CWD/out/b.test.armv7"),
        (["--build-dir", "/abs/out"], False, "/abs/out"),
        (["--build-dir", "/abs/out"], True, "/abs/out.test.armv7"),
    ],
)
def test_build_dir_for(tmp_path: Path, extra: list[str], several: bool, want: str) -> None:
    cwd = tmp_path / "cwd"
    got = build_dir_for(options(*extra).build_dir, platform("test.armv7"), cwd, several)
    assert got == Path(want.replace("CWD", str(cwd)))


# -- default_jobs / default_parallel ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cpus", "available", "want"),
    [
        (8, 64 * GiB, 8),  # cores limit
        (8, 3 * GiB, 3),  # memory limits: 1 GiB per job
        (8, 3 * GiB + GiB // 2, 3),
        (8, GiB // 2, 1),  # never fewer than one
        (1, 64 * GiB, 1),
    ],
)
def test_default_jobs(cpus: int, available: int, want: int) -> None:
    assert default_jobs(cpus, available) == want


@pytest.mark.parametrize(
    ("cpus", "available", "want"),
    [(8, 64 * GiB, 16), (8, 6 * GiB, 3), (8, GiB, 1), (2, 64 * GiB, 4), (2, 5 * GiB, 2)],
)
def test_default_parallel(cpus: int, available: int, want: int) -> None:
    assert default_parallel(cpus, available) == want


# -- check_build_dir --------------------------------------------------------------------------


def test_build_dir_without_stamp_is_fine(tmp_path: Path) -> None:
    check_build_dir(tmp_path / "missing", platform("amd64"), tmp_path / "src")
    (tmp_path / "empty").mkdir()
    check_build_dir(tmp_path / "empty", platform("amd64"), tmp_path / "src")


def test_build_dir_with_the_same_stamp_is_fine(tmp_path: Path) -> None:
    (tmp_path / BUILD_DIR_STAMP).write_text(stamp_text(platform("amd64"), Path("/src")), encoding="utf-8")
    check_build_dir(tmp_path, platform("amd64"), Path("/src"))


@pytest.mark.parametrize(
    ("name", "source"),
    [("armv7", "/src"), ("amd64", "/other-src")],
)
def test_build_dir_of_another_platform_or_source_is_refused(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / BUILD_DIR_STAMP).write_text(stamp_text(platform("amd64"), Path("/src")), encoding="utf-8")
    with pytest.raises(BuildDirConflictError) as info:
        check_build_dir(tmp_path, platform(name), Path(source))
    assert "platform amd64 from /src" in info.value.message
    assert f"{name} from {source}" in info.value.message
    assert "--build-dir" in info.value.hint


# -- main -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def x86_64_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test platforms are linux/amd64: make them native whatever machine runs the tests."""
    monkeypatch.setattr(platform_module, "machine", lambda: "x86_64")


@pytest.fixture
def docker_dir(tmp_path: Path) -> Path:
    path = tmp_path / "docker"
    path.mkdir()
    (path / "Dockerfile.build.amd64").write_text("FROM debian:bookworm\n", encoding="utf-8")
    (path / "Dockerfile.build.arm64").write_text(
        "# ci.docker-platform: linux/amd64\n# ci.target: linux/arm64\nFROM debian:bookworm\n",
        encoding="utf-8",
    )
    (path / "Dockerfile.build.test.armv7").write_text(
        "# ci.docker-platform: linux/arm/v7\n# ci.emulated: yes\nFROM arm32v7/debian:bookworm\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def runtime_functions(tmp_path: Path) -> Path:
    path = tmp_path / "runtime_functions.sh"
    path.write_text("_log() { :; }\nbuild_generic() {\n}\nunittest_xsum() {\n}\n", encoding="utf-8")
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def common(docker_dir: Path, runtime_functions: Path, source: Path) -> list[str]:
    return [
        "--docker-dir",
        str(docker_dir),
        "--runtime-functions",
        str(runtime_functions),
        "--source",
        str(source),
    ]


def error_line(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The one line main() printed for an error, split into the message and its hint."""
    captured = capsys.readouterr()
    assert captured.out == ""
    err = ANSI.sub("", captured.err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("build.py: ")
    message, _, hint = line.removeprefix("build.py: ").partition(" (hint: ")
    return message, hint.removesuffix(")")


def test_list_prints_the_platform_names(docker_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-l", "--docker-dir", str(docker_dir)], env={}) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.out == "amd64\narm64\ntest.armv7\n"
    assert captured.err == ""


def test_list_of_an_empty_docker_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list", "--docker-dir", str(tmp_path)], env={}) == ExitCode.OK
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("argv", "code", "in_message"),
    [
        (["-p", "amd46"], ExitCode.UNKNOWN_PLATFORM, "unknown platform 'amd46'; did you mean 'amd64'?"),
        (["-p", "amd64,nope"], ExitCode.UNKNOWN_PLATFORM, "valid platforms: amd64, arm64, test.armv7"),
        (["-p", "../amd64"], ExitCode.BAD_PLATFORM_NAME, "invalid platform name '../amd64'"),
        (["-p", "AMD64"], ExitCode.BAD_PLATFORM_NAME, "invalid platform name 'AMD64'"),
        (["-p", "amd64", "-e", "1BAD=x"], ExitCode.BAD_ENV, "malformed -e '1BAD=x'"),
        (["-p", "amd64", "-e", "NOVALUE"], ExitCode.BAD_ENV, "malformed -e 'NOVALUE'"),
        (["-p", "amd64", "-e", "MY-VAR=1"], ExitCode.BAD_ENV, "malformed -e 'MY-VAR=1'"),
        (["-p", "amd64", "unitest_xsum"], ExitCode.UNKNOWN_FUNCTION, "did you mean unittest_xsum?"),
        (["-p", "amd64", "_log"], ExitCode.UNKNOWN_FUNCTION, "unknown runtime function '_log'"),
        ([], ExitCode.USAGE, "no platform given"),
        (["-p", "amd64", "--bogus"], ExitCode.USAGE, "--bogus"),
        (["-p", "amd64", "--"], ExitCode.USAGE, "nothing after '--'"),
    ],
)
def test_bad_input_gives_its_exit_code_and_one_line_with_a_hint(
    common: list[str],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: ExitCode,
    in_message: str,
) -> None:
    assert main([*common, *argv], env={}) == code
    message, hint = error_line(capsys)
    assert in_message in message
    assert hint


def test_missing_source(
    docker_dir: Path, runtime_functions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-src"
    argv = ["-p", "amd64", "--docker-dir", str(docker_dir), "--runtime-functions", str(runtime_functions)]
    assert main([*argv, "--source", str(missing)], env={}) == ExitCode.SOURCE_MISSING
    message, hint = error_line(capsys)
    assert f"source dir {missing} does not exist" in message
    assert "--source" in hint
    # Every build system the harness takes, not CMake alone.
    assert all(name in hint for name in ("cmake", "meson", "autotools", "make")), hint


def test_source_that_is_a_file(
    docker_dir: Path, runtime_functions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["-p", "amd64", "--docker-dir", str(docker_dir), "--runtime-functions", str(runtime_functions)]
    assert main([*argv, "--source", str(runtime_functions)], env={}) == ExitCode.SOURCE_MISSING
    error_line(capsys)


def test_bad_platform_definition(
    docker_dir: Path, common: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (docker_dir / "Dockerfile.build.broken").write_text("# ci.emulate: yes\nFROM x\n", encoding="utf-8")
    assert main([*common, "-p", "amd64"], env={}) == ExitCode.PLATFORM_DEFINITION
    message, hint = error_line(capsys)
    assert "unknown declaration ci.emulate" in message
    assert "ci.emulated" in hint


@pytest.mark.parametrize(
    ("argv", "in_message"),
    [
        (["-p", "amd64", "-b", "-R"], "contradict"),
        (["-p", "amd64", "--build-jobs", "0"], "--build-jobs must be at least 1"),
        (["-p", "amd64", "unittest_xsum", "--", "make"], "not both"),
        (["-p", "amd64,arm64", "-i"], "-i opens one shell"),
    ],
)
def test_other_usage_errors(
    common: list[str], capsys: pytest.CaptureFixture[str], argv: list[str], in_message: str
) -> None:
    assert main([*common, *argv], env={}) == ExitCode.USAGE
    message, _ = error_line(capsys)
    assert in_message in message


def test_debug_adds_the_traceback(common: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*common, "--debug", "-p", "amd46"], env={}) == ExitCode.UNKNOWN_PLATFORM
    assert "Traceback (most recent call last):" in capsys.readouterr().err


def test_debug_after_double_dash_belongs_to_the_command(
    common: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*common, "-p", "amd46", "--", "make", "--debug"], env={}) == ExitCode.UNKNOWN_PLATFORM
    error_line(capsys)  # one line, no traceback


def test_errors_go_to_stderr_at_the_file_descriptor_level(
    common: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    assert main([*common, "-p", "amd46"], env={}) == ExitCode.UNKNOWN_PLATFORM
    message, hint = error_line(capfd)
    assert "unknown platform 'amd46'" in message
    assert "Dockerfile.build.amd46" in hint
