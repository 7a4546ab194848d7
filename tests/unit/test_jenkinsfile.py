"""The Jenkinsfile only calls things that exist: build.py flags, platforms, scripts, test tiers.
(npm-groovy-lint checks its syntax in the lint tier.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ci.options import parse_args
from ci.platforms import discover

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


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_build_py_call_parses_for_every_platform(platform: str) -> None:
    calls = [c for step in shell_steps() for c in step.split("&&") if "./build.py" in c]
    calls += re.findall(r"'(\./build\.py[^']*)'", JENKINSFILE)  # commands kept in variables
    assert calls
    for call in calls:
        argv = call.strip().replace("${platform}", platform).split()[1:]
        opts = parse_args(argv)
        assert not opts.platforms or opts.platforms == [platform]


def test_no_platform_is_named_by_hand() -> None:
    for name in PLATFORMS:
        assert not re.search(rf"['\"]{re.escape(name)}['\"]", JENKINSFILE), name


def test_scripts_and_tiers_it_calls_exist() -> None:
    for script in re.findall(r"\b(ci/[a-z_]+\.sh)", JENKINSFILE):
        assert (REPO / script).is_file(), script
    tiers = re.findall(r"ci/test\.sh ([a-z ]+)", JENKINSFILE)
    test_sh = (REPO / "ci" / "test.sh").read_text()
    for tier in " ".join(tiers).split():
        assert re.search(rf"^\s+{tier}\)", test_sh, re.MULTILINE), tier


def test_it_collects_junit_archives_and_cleans_up() -> None:
    assert 'testResults: "build.${platform}/junit/*.xml"' in JENKINSFILE
    assert "archiveArtifacts" in JENKINSFILE and "timeout(" in JENKINSFILE
    assert re.search(r"post \{\s*always \{\s*sh cleanupCommand", JENKINSFILE)
    assert "String cleanupCommand = './build.py --cleanup'" in JENKINSFILE
    assert "CCACHE_DIR" in JENKINSFILE


def test_gpu_platforms_go_to_the_gpu_label() -> None:
    assert "./build.py --list-gpus" in shell_steps()
    assert parse_args(["--list-gpus"]).list_gpus
    assert "env.CI_GPU_LABEL" in JENKINSFILE and "platform in gpuPlatforms" in JENKINSFILE
