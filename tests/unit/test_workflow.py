"""The GitHub Actions workflow only calls things that exist and stays thin: every build.py call
parses, the matrix comes from build.py, a tag releases per platform then joins.
(check-jsonschema and zizmor check its schema and security in the lint tier.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ci.planning.platforms import discover
from ci.settings.options import parse_args

REPO = Path(__file__).resolve().parents[2]
TEXT = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
WORKFLOW: dict[str, Any] = YAML(typ="safe").load(TEXT)
JOBS: dict[str, Any] = WORKFLOW["jobs"]
PLATFORMS = discover(REPO / "docker")


def steps(job: str) -> list[dict[str, Any]]:
    return list(JOBS[job]["steps"])


def build_py_calls(job: str) -> list[str]:
    """Every build.py command line in a job's run steps (up to a pipe, redirection or `)`)."""
    runs = "\n".join(str(step.get("run", "")) for step in steps(job))
    return [call.strip() for call in re.findall(r"\./build\.py[^)\n&>|;]*", runs)]


def expand(command: str, platform: str, variant: str = "") -> list[str]:
    values = {
        "PLATFORM": platform,
        "VARIANT": variant,
        "JOB": f"{platform}.{variant}" if variant else platform,
        "RELEASE_TAG": "1.2.0",
        "RELEASE_REPOSITORIES": "ghcr.io/o/xsum,r.example/x",
    }
    return shlex.split(re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], command))[1:]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_build_py_call_parses_for_every_platform(platform: str) -> None:
    calls = [c for job in JOBS for c in build_py_calls(job)]
    assert len(calls) >= 5
    for call in calls:
        opts = parse_args(expand(call, platform))
        assert not opts.platforms or opts.platforms == [platform]


def test_the_matrix_and_runners_come_from_build_py() -> None:
    assert "./build.py --list-json" in " ".join(build_py_calls("sanity"))
    platform = JOBS["platform"]
    assert platform["strategy"]["matrix"] == "${{ fromJSON(needs.sanity.outputs.matrix) }}"
    assert platform["runs-on"] == "${{ matrix.runner }}"
    assert platform["env"]["PLATFORM"] == "${{ matrix.platform }}"
    for name in PLATFORMS:  # no platform is named by hand
        assert not re.search(rf"\b{re.escape(name)}\b", TEXT.replace("build.py", "")), name


def test_a_variant_of_the_matrix_is_its_own_job_with_its_build_dir() -> None:
    env = JOBS["platform"]["env"]
    assert env["VARIANT"] == "${{ matrix.variant || '' }}"
    assert "matrix.variant" in env["JOB"] and "matrix.platform" in env["JOB"]
    for variant, job in (("asan", "amd64.asan"), ("", "amd64")):
        runs = [parse_args(expand(c, "amd64", variant)) for c in build_py_calls("platform")]
        built = [o for o in runs if o.platforms == ["amd64"]]
        assert built and all(o.variants == [variant] and str(o.build_dir) == f"build.{job}" for o in built)


def test_a_tag_pushes_each_platform_then_joins_them_everywhere() -> None:
    per_platform = [parse_args(expand(c, "arm64")) for c in build_py_calls("platform")]
    releases = [o for o in per_platform if o.release]
    assert len(releases) == 1 and releases[0].no_manifest and releases[0].push == "ghcr.io/o/xsum,r.example/x"
    assert JOBS["release"]["needs"] == "platform" and JOBS["release"]["if"] == "github.ref_type == 'tag'"
    joins = [parse_args(expand(c, "amd64")) for c in build_py_calls("release")]
    assert [(o.manifest, o.all, o.push) for o in joins] == [("1.2.0", True, "ghcr.io/o/xsum,r.example/x")]


def test_checkouts_keep_no_credentials_and_permissions_are_minimal() -> None:
    assert WORKFLOW["permissions"] == {}
    for name, job in JOBS.items():
        assert "permissions" in job, name
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
    assert JOBS["sanity"]["permissions"] == {"contents": "read"}


def test_junit_is_published_and_ccache_is_kept_outside_releases() -> None:
    uses = {str(s.get("uses", "")).split("@")[0]: s for s in steps("platform")}
    assert "junit" in uses["actions/upload-artifact"]["with"]["path"]
    cache = uses["actions/cache"]
    assert cache["with"]["path"] == "~/.cache/ciharness/ccache"
    assert "matrix.platform" in cache["with"]["key"] and "runner.arch" in cache["with"]["key"]
    assert cache["if"] == "github.ref_type != 'tag'"


def test_the_html_report_is_uploaded_with_the_log_it_links_to() -> None:
    uploads = [s for s in steps("platform") if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    report = [s for s in uploads if "build-report.html" in s["with"]["path"]]
    assert len(report) == 1 and report[0]["if"] == "always()"
    assert "build.${{ env.JOB }}/build.log" in report[0]["with"]["path"]
    assert parse_args(["-p", "amd64"]).report == "build-report.html"  # where build.py writes it
