"""GPU platforms against the real engine, which has no NVIDIA runtime (and this machine no GPU):
a run that needs GPUs is refused with exit 83 before anything is built or run; building (-b),
printing, and running with --gpus none still work."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

import docker
from ci.planning.platforms import discover
from ci.planning.runspec import image_ref
from tests.integration.helpers import run_build_py, snapshot, tiny_platforms

pytestmark = pytest.mark.usefixtures("no_leftovers")


def gpu_platform(tmp_path: Path) -> tuple[Path, str]:
    """A docker dir with platform `cuda` (`# ci.gpus: all`) whose image tag is this test's own."""
    docker_dir = tiny_platforms(
        tmp_path, {"cuda": f"# ci.gpus: all\nFROM debian:trixie\nLABEL test.dir={tmp_path.name}\n"}
    )
    return docker_dir, str(image_ref(discover(docker_dir)["cuda"], docker_dir))


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    return bool(client.api.images(name=ref, quiet=True))


def runtimes(client: docker.DockerClient) -> str:
    return ", ".join(sorted(client.api.info().get("Runtimes") or {}))


def test_a_gpu_run_on_an_engine_without_nvidia_is_83_before_anything_is_built(
    tmp_path: Path, docker_client: docker.DockerClient, amd64_image: str
) -> None:
    assert "nvidia" not in runtimes(docker_client)  # the premise: this engine cannot give GPUs
    docker_dir, ref = gpu_platform(tmp_path)
    build = tmp_path / "build"
    build.mkdir()
    (build / "keep.txt").write_text("user data")
    before = snapshot(tmp_path)
    result = run_build_py(
        "-p", "cuda", "--docker-dir", str(docker_dir), "--build-dir", str(build), "--", "true"
    )
    assert result.returncode == 83, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("build.py: cuda needs GPUs (all) but ")
    assert f"no NVIDIA container runtime (its runtimes: {runtimes(docker_client)})" in lines[0]
    assert "nvidia-ctk runtime configure --runtime=docker" in lines[0]
    assert not image_exists(docker_client, ref)  # refused before the image was built
    assert snapshot(tmp_path) == before
    # --gpus asks the same of any platform, and is refused the same way.
    override = run_build_py("-p", "amd64", "--gpus", "device=0", "--build-dir", str(build), "--", "true")
    assert override.returncode == 83, override.stderr
    assert "amd64 needs GPUs (0) but " in override.stderr


def test_without_gpus_a_gpu_platform_still_builds_prints_and_runs(
    tmp_path: Path, docker_client: docker.DockerClient, amd64_image: str
) -> None:
    docker_dir, ref = gpu_platform(tmp_path)
    common = ["-p", "cuda", "--docker-dir", str(docker_dir), "--build-dir", str(tmp_path / "build")]
    try:
        built = run_build_py(*common, "-b")
        assert built.returncode == 0, built.stderr
        assert built.stdout.strip() == ref
        printed = run_build_py(*common, "--print-docker-run", "--", "nvidia-smi")
        assert printed.returncode == 0, printed.stderr
        argv = shlex.split(printed.stdout)
        assert argv[argv.index("--gpus") + 1] == "all" and "CI_GPUS=all" in argv
        ran = run_build_py(*common, "--gpus", "none", "--", "sh", "-c", 'echo "gpus=$CI_GPUS"')
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "gpus=none"
    finally:
        docker_client.api.remove_image(ref)


@pytest.mark.xdist_group("podman")
def test_podman_is_refused_for_gpus(tmp_path: Path) -> None:
    docker_dir, _ = gpu_platform(tmp_path)
    result = run_build_py(
        "-p", "cuda", "--engine", "podman", "--docker-dir", str(docker_dir), "--", "true"
    )  # fmt: skip
    assert result.returncode == 83, result.stderr
    assert "podman's Docker-compatible API ignores GPU device requests" in result.stderr
