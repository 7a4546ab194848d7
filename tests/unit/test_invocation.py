"""plan_invocation: options + environment + host facts -> the whole invocation, without Docker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ci.errors import (
    BadCcacheRemoteError,
    BadReleaseReferenceError,
    GpuUnavailableError,
    SourceMissingError,
    UnknownFunctionError,
    UsageError,
)
from ci.planning import runspec
from ci.planning.invocation import Invocation, mode_of
from ci.planning.platformrun import PlatformRun
from ci.planning.runplan import run_inputs
from ci.settings.gpus import ALL_GPUS, NO_GPUS, Gpus
from ci.settings.options import parse_args
from tests.unit.helpers import plan, shared

GiB = 1 << 30


def inputs_of(inv: Invocation, run: PlatformRun, **facts: object) -> runspec.RunInputs:
    """What steps.spec_for gives the planning: the setting's source mode, the engine's facts."""
    return run_inputs(
        shared(inv),
        run,
        source_mode=inv.settings.source_mode,
        emulated=bool(facts.get("emulated", False)),
        engine_limits=facts.get("engine_limits", {}),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("argv", "mode"),
    [
        (["-l"], "list"),
        (["--cleanup"], "cleanup"),
        (["--prune"], "prune"),
        (["-p", "amd64", "-b"], "build"),
        (["-p", "amd64", "--print-docker-run"], "print"),
        (["-p", "amd64", "-i"], "interactive"),
        (["-p", "amd64"], "run"),
        (["-p", "amd64", "--", "true"], "run"),
        (["-p", "amd64", "--release", "1", "--push", "r/x", "--no-manifest"], "run"),
        (["--list-json"], "list-json"),
        (["-a", "--manifest", "1", "--push", "r/x"], "manifest"),
    ],
)
def test_one_mode_per_invocation(argv: list[str], mode: str) -> None:
    assert mode_of(parse_args(argv)) == mode


def test_list_knows_every_platform(project: Path) -> None:
    inv = plan(project, "-l")
    assert [p.name for p in inv.known] == ["amd64", "arm64", "other"]
    assert inv.platforms == ()


def test_one_platform_is_planned_whole(project: Path) -> None:
    inv = plan(project, "-p", "amd64", "-e", "A=B=C", env={"BUILD_TAG": "jenkins-1", "OTHER": "x"})
    assert inv.mode == "run" and not inv.several
    (run,) = inv.platforms
    assert run.platform.name == "amd64"
    assert run.engine_url == "" and not run.remote
    assert run.build_dir == project / "cwd" / "build.amd64"
    assert run.command == ("/work/runtime_functions.sh", "build_generic")
    assert str(run.image).startswith("ciharness/amd64:")
    assert dict(shared(inv).user_env) == {"A": "B=C"}
    assert dict(shared(inv).passthrough_env) == {"BUILD_TAG": "jenkins-1"}
    assert shared(inv).jobs == 6  # 8 cores, but one job per GiB of the 6 available
    assert inv.parallel == 3  # one platform per 2 GiB
    assert len(shared(inv).run_id) == 12
    assert inv.runs_containers


def test_several_platforms_get_their_own_build_dirs_and_functions(project: Path) -> None:
    inv = plan(project, "-p", "amd64,other", "--build-dir", "out", "-j", "1")
    assert inv.several and inv.parallel == 1
    assert [r.build_dir for r in inv.platforms] == [
        project / "cwd" / "out.amd64",
        project / "cwd" / "out.other",
    ]
    assert [r.command[-1] for r in inv.platforms] == ["build_generic", "build_other"]


def test_engines_per_platform_and_remote_platforms_skip_local_emulation(project: Path) -> None:
    inv = plan(project, "-p", "amd64,arm64", "--docker-host", "arm64=tcp://127.0.0.1:2375")
    urls = {r.platform.name: (r.engine_url, r.remote) for r in inv.platforms}
    assert urls == {"amd64": ("", False), "arm64": ("tcp://127.0.0.1:2375", True)}


def test_release_targets_per_platform(project: Path) -> None:
    inv = plan(project, "-p", "amd64,arm64", "--release", "1.2", "--push", "127.0.0.1:5000/x",
               "--docker-host", "arm64=tcp://127.0.0.1:2375")  # fmt: skip
    assert inv.release is not None and inv.release.tag == "1.2"
    assert inv.release.repositories == ("127.0.0.1:5000/x",)
    tags = {r.platform.name: r.release.ref("r") if r.release else None for r in inv.platforms}
    assert tags == {"amd64": "r:1.2-amd64", "arm64": "r:1.2-arm64"}


def test_no_manifest_releases_each_platform_and_leaves_the_list(project: Path) -> None:
    inv = plan(project, "-p", "arm64", "--release", "1.2", "--push", "r/x", "--no-manifest")
    assert inv.release is not None and not inv.release.manifest
    assert [i.tag for i in inv.release.images] == ["1.2-arm64"]
    assert inv.platforms[0].release is not None


def test_manifest_plans_only_the_join(project: Path) -> None:
    (project / "docker" / "Dockerfile.build.test.arm64").write_text(
        "# ci.docker-platform: linux/arm64\n# ci.release: no\nFROM debian:trixie\n", encoding="utf-8"
    )
    argv = [
        "-p",
        "amd64,arm64,test.arm64",
        "--manifest",
        "1.2",
        "--push",
        "127.0.0.1:5000/x,r.example/team/x",
    ]
    inv = plan(project, *argv)
    assert inv.mode == "manifest" and inv.platforms == () and not inv.runs_containers
    assert inv.release is not None and inv.release.manifest
    assert inv.release.repositories == ("127.0.0.1:5000/x", "r.example/team/x")
    assert {i.tag: i.docker_platform for i in inv.release.images} == {
        "1.2-amd64": "linux/amd64",
        "1.2-arm64": "linux/arm64",
    }
    assert inv.release.unreleased == ("test.arm64",)


def test_a_platform_that_does_not_ship_is_built_not_released(project: Path) -> None:
    (project / "docker" / "Dockerfile.build.test.arm64").write_text(
        "# ci.docker-platform: linux/arm64\n# ci.release: no\nFROM debian:trixie\n", encoding="utf-8"
    )
    inv = plan(project, "-p", "test.arm64", "--release", "1.2", "--push", "r/x", "--no-manifest")
    assert inv.mode == "run" and inv.platforms[0].release is None
    assert inv.release is not None and inv.release.unreleased == ("test.arm64",)
    with pytest.raises(BadReleaseReferenceError, match="none of the platforms given is released"):
        plan(project, "-p", "test.arm64", "--release", "1.2", "--push", "r/x")


def test_manifest_of_two_platforms_of_one_architecture_is_refused(project: Path) -> None:
    with pytest.raises(BadReleaseReferenceError, match="one image per architecture"):
        plan(project, "-p", "amd64,other", "--manifest", "1.2", "--push", "r/x")


def test_list_json_lists_all_or_those_given(project: Path) -> None:
    assert [p.name for p in plan(project, "--list-json").known] == ["amd64", "arm64", "other"]
    assert [p.name for p in plan(project, "--list-json", "-p", "arm64").known] == ["arm64"]


def test_podman_plans_its_service_socket(project: Path) -> None:
    inv = plan(project, "-p", "amd64", "--engine", "podman", env={"XDG_RUNTIME_DIR": "/run/user/1234"})
    assert inv.engine_kind == "podman"
    assert inv.podman_socket == Path("/run/user/1234/podman/podman.sock")
    assert inv.platforms[0].engine_url == "unix:///run/user/1234/podman/podman.sock"


@pytest.mark.parametrize(
    ("argv", "error", "words"),
    [
        (["-p", "amd64,other", "-i"], UsageError, "one platform"),
        (["-p", "amd64", "nosuchstep"], UnknownFunctionError, "nosuchstep"),
        (["-p", "arm64", "-i", "--docker-host", "arm64=tcp://h:2375"], UsageError, "local engine"),
    ],
)
def test_bad_combinations_are_refused_while_planning(
    project: Path, argv: list[str], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        plan(project, *argv)


def test_missing_source_is_refused_while_planning(project: Path) -> None:
    shutil.rmtree(project / "src")
    with pytest.raises(SourceMissingError):
        plan(project, "-p", "amd64")


def test_cleanup_visits_the_default_and_every_named_engine(project: Path) -> None:
    inv = plan(project, "--cleanup", "--docker-host", "arm64=tcp://10.0.0.9:2375", env={"DOCKER_HOST": ""})
    assert inv.engine_urls == ("", "tcp://10.0.0.9:2375")


def test_run_inputs_carry_the_host_and_engine_facts(project: Path) -> None:
    inv = plan(project, "-p", "amd64", "-i", "--engine", "podman", stdin_tty=True, euid=1234)
    inputs = inputs_of(inv, inv.platforms[0], emulated=True, engine_limits={"nofile": 1024})
    owner = inputs.shared.host
    assert (owner.uid, owner.gid, owner.pid, owner.name) == (1234, 2345, 4242, "agent-7")
    assert owner.start_time == 1700000000.5
    assert inputs.shared.interactive and inputs.shared.tty and inputs.emulated and inputs.shared.rootless
    assert dict(inputs.engine_limits) == {"nofile": 1024}
    assert inputs.command == ("bash",)


def test_ccache_remote_comes_from_the_flag_else_ci_ccache_remote(project: Path) -> None:
    env = {"CI_CCACHE_REMOTE": "redis://from-env:6379"}
    assert shared(plan(project, "-p", "amd64")).ccache_remote == ""
    assert shared(plan(project, "-p", "amd64", env=env)).ccache_remote == "redis://from-env:6379"
    flagged = plan(project, "-p", "amd64", "--ccache-remote", "redis://flag:1  file:///x", env=env)
    assert shared(flagged).ccache_remote == "redis://flag:1 file:///x"
    assert shared(plan(project, "-p", "amd64", "--ccache-remote", "", env=env)).ccache_remote == ""
    inputs = inputs_of(flagged, flagged.platforms[0])
    assert inputs.shared.ccache_remote == "redis://flag:1 file:///x"


@pytest.mark.parametrize("env_or_flag", ["env", "flag"])
def test_a_ccache_remote_ccache_would_refuse_is_exit_84_before_anything_runs(
    project: Path, env_or_flag: str
) -> None:
    bad = "rediss://pw@cache:6379"
    argv = ["-p", "amd64", *(["--ccache-remote", bad] if env_or_flag == "flag" else [])]
    env = {"CI_CCACHE_REMOTE": bad} if env_or_flag == "env" else {}
    with pytest.raises(BadCcacheRemoteError) as info:
        plan(project, *argv, env=env)
    assert info.value.code == 84
    assert "pw@" not in info.value.message and "unknown scheme 'rediss'" in info.value.message
    assert not (project / "cwd" / "build").exists()


@pytest.mark.parametrize(
    ("argv", "stderr_tty", "board"),
    [
        (["-p", "amd64,other"], True, True),  # auto on a terminal: the board
        (["-p", "amd64,other"], False, False),  # auto through a pipe: prefixed lines, as ever
        (["-p", "amd64,other", "--progress", "tty"], False, True),
        (["-p", "amd64,other", "--progress", "plain"], True, False),
        (["-p", "amd64", "--progress", "tty"], True, False),  # one platform streams live
        (["-p", "amd64,other", "-b"], True, False),  # only runs have a board
    ],
)
def test_progress_shows_the_board_for_several_platforms_on_a_terminal(
    project: Path, argv: list[str], stderr_tty: bool, board: bool
) -> None:
    assert plan(project, *argv, stderr_tty=stderr_tty).board is board


def test_default_build_dir_is_per_platform_so_switching_needs_no_cleanup(project: Path) -> None:
    one = plan(project, "-p", "amd64").platforms[0].build_dir
    other = plan(project, "-p", "other").platforms[0].build_dir
    assert (one.name, other.name) == ("build.amd64", "build.other")
    assert plan(project, "-p", "amd64", "--build-dir", "b").platforms[0].build_dir == project / "cwd" / "b"


def test_gpus_come_from_the_platform_unless_the_flag_says(project: Path) -> None:
    (project / "docker" / "Dockerfile.build.cuda").write_text("# ci.gpus: 2\nFROM debian:trixie\n")
    runs = {r.platform.name: r for r in plan(project, "-p", "cuda,amd64").platforms}
    assert (runs["cuda"].gpus, runs["amd64"].gpus) == (Gpus(count=2), NO_GPUS)
    overridden = plan(project, "-p", "cuda,amd64", "--gpus", "none").platforms
    assert [r.gpus for r in overridden] == [NO_GPUS, NO_GPUS]
    inv = plan(project, "-p", "amd64", "--gpus", "all")
    assert inputs_of(inv, inv.platforms[0]).gpus == ALL_GPUS
    listed = plan(project, "--list-gpus")
    assert (listed.mode, [p.name for p in listed.known]) == ("list", ["cuda"])


def test_podman_is_refused_for_gpus_while_planning(project: Path) -> None:
    (project / "docker" / "Dockerfile.build.cuda").write_text("# ci.gpus: all\nFROM debian:trixie\n")
    with pytest.raises(GpuUnavailableError, match="ignores GPU device requests"):
        plan(project, "-p", "cuda", "--engine", "podman", "--print-docker-run")
    assert plan(project, "-p", "cuda", "--engine", "podman", "-b").mode == "build"  # building needs no GPU
    assert plan(project, "-p", "cuda", "--engine", "podman", "--gpus", "none").platforms[0].gpus == NO_GPUS
