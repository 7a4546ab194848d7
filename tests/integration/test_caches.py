"""ccache per run on native and cross platforms, its size cap, and --prune, on the real engine."""

from __future__ import annotations

import contextlib
import re
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import run_build_py, tiny_platforms

STATS = re.compile(r"ccache (\d+) hits, (\d+) misses")


def hits_misses(stderr: str) -> tuple[int, int]:
    found = STATS.findall(stderr)
    assert found, stderr[-2000:]
    return int(found[-1][0]), int(found[-1][1])


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_ccache_counts_this_run_and_never_confuses_architectures(tmp_path: Path) -> None:
    cache = str(tmp_path / "ccache")

    def build(platform: str, n: int) -> tuple[int, int]:
        result = run_build_py(
            "-p", platform, "--build-dir", str(tmp_path / f"{platform}{n}"), "--ccache-dir", cache
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return hits_misses(result.stderr)

    cold_hits, cold_misses = build("amd64", 1)
    assert cold_hits == 0 and cold_misses > 0
    assert build("amd64", 2) == (cold_misses, 0)  # warm, empty build dir: every compile a hit
    arm_hits, arm_misses = build("armv7", 1)  # same sources, other compiler: no false hits
    assert arm_hits == 0 and arm_misses == cold_misses
    assert build("armv7", 2) == (arm_misses, 0)
    assert not (tmp_path / "ccache" / "ccache.conf").exists()  # settings come from the run's env


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_ccache_max_size_reaches_ccache(tmp_path: Path) -> None:
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(tmp_path / "b"), "--ccache-max-size", "750M",
        "--", "sh", "-c", "ccache --show-config | grep -w max_size",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"\(environment\) max_size = 750(\.0)? ?MB?$", result.stdout.strip()), result.stdout
    default = run_build_py(
        "-p", "amd64", "--build-dir", str(tmp_path / "b"), "--", "sh", "-c", "echo $CCACHE_MAXSIZE"
    )
    assert default.stdout.strip() == "10G"


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_prune_removes_only_our_outdated_images(tmp_path: Path, docker_client: docker.DockerClient) -> None:
    name = f"prune{uuid.uuid4().hex[:8]}"
    docker_dir = tiny_platforms(
        tmp_path, {name: f"FROM debian:trixie\nCOPY payload.txt /p\nRUN echo {name}\n"}
    )
    (docker_dir / "payload.txt").write_text("old\n")
    old = run_build_py("-p", name, "--docker-dir", str(docker_dir), "-b").stdout.strip()
    (docker_dir / "payload.txt").write_text("new\n")
    new = run_build_py("-p", name, "--docker-dir", str(docker_dir), "-b").stdout.strip()
    assert old != new and old and new
    mine = f"someone/else:{name}"
    docker_client.images.get("debian:trixie").tag(mine)
    try:
        result = run_build_py("--prune", "--docker-dir", str(docker_dir))
        assert result.returncode == 0, result.stderr
        assert old in result.stdout and new not in result.stdout
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(old)
        docker_client.images.get(new)
        docker_client.images.get(mine)
        docker_client.images.get("debian:trixie")
    finally:
        for ref in (new, mine):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(ref)
