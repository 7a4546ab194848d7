"""The Jenkinsfile only calls things that exist: build.py flags, platforms, scripts, test tiers.
(npm-groovy-lint checks its syntax in the lint tier.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ci.planning.platforms import discover
from ci.settings.options import parse_args

REPO = Path(__file__).resolve().parents[2]
JENKINSFILE = (REPO / "Jenkinsfile").read_text(encoding="utf-8")
PLATFORMS = discover(REPO / "docker")


def shell_steps() -> list[str]:
    """Every command string given to an `sh` step (plain, GString or script: form)."""
    steps = re.findall(r"""\bsh\s*(?:\(script:\s*)?(['"])(.+?)\1""", JENKINSFILE)
    return [command for _, command in steps]


def test_it_has_shell_steps_calling_build_py() -> None:
    assert any("./build.py -p ${platform}" in s for s in shell_steps())
    assert "./build.py -l" in shell_steps()


def expand(command: str, platform: str) -> list[str]:
    """A shell command as the agent's shell would split it, with the job's parameters set."""
    values = {"platform": platform, "RELEASE_TAG": "1.2.0", "RELEASE_REPOSITORIES": "127.0.0.1:5000/xsum"}
    text = re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], command)
    return shlex.split(text)


def build_py_calls() -> list[str]:
    calls = [c for step in shell_steps() for c in step.split("&&") if "./build.py" in c]
    calls += re.findall(r"'(\./build\.py[^']*)'", JENKINSFILE)  # commands kept in variables
    return calls


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_build_py_call_parses_for_every_platform(platform: str) -> None:
    release_flags = re.findall(r"String releaseFlags = '([^']*)'", JENKINSFILE)
    assert len(release_flags) == 1
    calls = build_py_calls()
    assert calls
    platform_calls = [c for c in calls if "-p ${platform}" in c]
    assert platform_calls
    for call in [*calls, *(c + release_flags[0] for c in platform_calls)]:
        opts = parse_args(expand(call, platform)[1:])
        assert not opts.platforms or opts.platforms == [platform]


def test_a_release_pushes_each_platform_from_its_agent_then_joins_them() -> None:
    release_flags = re.findall(r"String releaseFlags = '([^']*)'", JENKINSFILE)[0]
    per_platform = parse_args(expand("./build.py -p ${platform}" + release_flags, "arm64")[1:])
    assert (per_platform.release, per_platform.no_manifest, per_platform.push) == (
        "1.2.0",
        True,
        "127.0.0.1:5000/xsum",
    )
    joins = [c for c in build_py_calls() if "--manifest" in c]
    assert len(joins) == 1
    join = parse_args(expand(joins[0], "amd64")[1:])
    assert (join.manifest, join.push, join.all) == ("1.2.0", "127.0.0.1:5000/xsum", True)
    for parameter in ("RELEASE_TAG", "RELEASE_REPOSITORIES"):
        assert f"string(name: '{parameter}'" in JENKINSFILE
    assert re.search(r"stage\('Release'\) \{\s*when \{\s*expression \{ releasing\(\) \}", JENKINSFILE)
    assert "sh joinCommand" in JENKINSFILE


def test_no_platform_is_named_by_hand() -> None:
    for name in PLATFORMS:
        assert not re.search(rf"['\"]{re.escape(name)}['\"]", JENKINSFILE), name


def test_scripts_and_tiers_it_calls_exist() -> None:
    for script in re.findall(r"\b(scripts/[a-z_]+\.sh)", JENKINSFILE):
        assert (REPO / script).is_file(), script
    tiers = re.findall(r"scripts/test\.sh ([a-z ]+)", JENKINSFILE)
    test_sh = (REPO / "scripts" / "test.sh").read_text()
    for tier in " ".join(tiers).split():
        assert re.search(rf"^\s+{tier}\)", test_sh, re.MULTILINE), tier


def test_it_collects_junit_archives_and_cleans_up() -> None:
    assert 'testResults: "build.${platform}/junit/*.xml"' in JENKINSFILE
    assert "archiveArtifacts" in JENKINSFILE and "timeout(" in JENKINSFILE
    assert re.search(r"post \{\s*always \{\s*sh cleanupCommand", JENKINSFILE)
    assert "String cleanupCommand = './build.py --cleanup'" in JENKINSFILE
    assert "CCACHE_DIR" in JENKINSFILE


def test_builds_run_with_the_shared_ccache_credential_bound_when_the_job_names_one() -> None:
    # build.py reads CI_CCACHE_REMOTE itself; a URL with a password comes from a credential.
    assert "variable: 'CI_CCACHE_REMOTE'" in JENKINSFILE
    assert re.search(r"withCcacheRemote \{\s*sh \"scripts/provision.sh && ./build.py -p", JENKINSFILE)


def test_gpu_platforms_go_to_the_gpu_label() -> None:
    assert "./build.py --list-gpus" in shell_steps()
    assert parse_args(["--list-gpus"]).list_gpus
    assert "env.CI_GPU_LABEL" in JENKINSFILE and "platform in gpuPlatforms" in JENKINSFILE


def test_each_platform_writes_its_own_report_and_archives_it_with_its_log() -> None:
    (call,) = re.findall(r'"scripts/provision.sh && (\./build\.py -p [^"]*)" \+\s*"([^"]*)"', JENKINSFILE)
    opts = parse_args(expand(" ".join(call), "armv7")[1:])
    assert opts.report == "build.armv7/report.html" and opts.build_dir == Path("build.armv7")
    assert "build.${platform}/report.html, build.${platform}/build.log" in JENKINSFILE
