"""Multi-architecture release images: built per architecture from the tested cross builds,
pushed to two real registries, joined into a manifest list in each, runnable under emulation."""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import run_build_py, start_registry

LIST_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


def manifest(address: str, repository: str, tag: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://{address}/v2/{repository}/manifests/{tag}", headers={"Accept": ", ".join(LIST_TYPES)}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


@pytest.mark.early  # bootstraps the release bases of three architectures: minutes
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_release_pushes_per_arch_tags_and_a_manifest_list_to_every_registry(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    first, _ = start_registry(tmp_path / "r1")
    second, _ = start_registry(tmp_path / "r2")
    tag = f"1.0.{uuid.uuid4().hex[:6]}"
    result = run_build_py(
        "--release", tag, "--push", f"{first}/xsum,{second}/team/xsum",
        "-p", "amd64,arm64,armv7", "--build-dir", str(tmp_path / "build"), timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]

    for address, repository in ((first, "xsum"), (second, "team/xsum")):
        listed = manifest(address, repository, tag)
        assert listed["mediaType"] in LIST_TYPES
        platforms = {
            "/".join(
                filter(
                    None, [m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")]
                )
            )
            for m in listed["manifests"]  # type: ignore[attr-defined]
        }
        # Docker writes arm64 as arm64/v8 (as official images do); the two are the same platform.
        assert {p.removesuffix("/v8") for p in platforms} == {"linux/amd64", "linux/arm64", "linux/arm/v7"}
        tags = json.load(urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=10))[
            "tags"
        ]
        assert {f"{tag}-amd64", f"{tag}-arm64", f"{tag}-armv7", tag} <= set(tags)

    # Run the list's arm64 image the way a user would: pulled by the list's tag, under QEMU.
    ref = f"{second}/team/xsum:{tag}"
    for local in docker_client.images.list(name=f"{second}/team/xsum"):
        docker_client.images.remove(str(local.id), force=True)
    run = subprocess.run(
        ["docker", "run", "--rm", "--platform", "linux/arm64", ref, "sh", "-c", "uname -m; xsum --info"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    machine, info = run.stdout.split("\n", 1)
    assert machine == "aarch64"
    assert "endian=little pointer_bits=64" in info
    for registry in (first, second):
        for local in docker_client.images.list(name=f"{registry}/xsum") + docker_client.images.list(
            name=f"{registry}/team/xsum"
        ):
            docker_client.images.remove(str(local.id), force=True)


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_registry_refusing_the_push_exits_81(tmp_path: Path) -> None:
    address, proc = start_registry(tmp_path / "r")
    proc.kill()
    proc.wait()
    result = run_build_py(
        "--release", "1.0", "--push", f"{address}/xsum", "-p", "amd64", "--build-dir", str(tmp_path / "b")
    )
    assert result.returncode == 81, result.stderr[-2000:]
    assert "refused" in result.stderr and "Traceback" not in result.stderr
