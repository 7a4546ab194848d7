"""A release assembled from several machines: two build.py processes ("agents"), each with its own
build dir and its own real engine, push their TAG-<arch> to two real registries; a third process
joins them over the registry API. Also: a join refused (82) changes nothing, a join is
idempotent, the architecture is read from the image, and registry logins come from docker's
config.json."""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import Result, run_build_py, start_registry

LIST_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


def tags(address: str, repository: str) -> set[str]:
    with urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=10) as reply:
        return set(json.load(reply)["tags"] or [])


def list_digest(address: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{address}/v2/{repository}/manifests/{tag}", headers={"Accept": ", ".join(LIST_TYPES)}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return str(reply.headers["Docker-Content-Digest"])


def inspect_platforms(ref: str) -> set[str]:
    """What `docker manifest inspect` (the docker CLI, straight from the registry) lists."""
    result = subprocess.run(
        ["docker", "manifest", "inspect", "--insecure", ref],
        capture_output=True, text=True, timeout=60, check=False,
        env={"DOCKER_CLI_EXPERIMENTAL": "enabled", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    return {
        "/".join(
            filter(None, [m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")])
        )
        for m in listed["manifests"]
    }


def remove_local(client: docker.DockerClient, *repositories: str) -> None:
    for repository in repositories:
        for image in client.images.list(name=repository):
            client.images.remove(str(image.id), force=True)


def joined(result: Result, repositories: list[str], tag: str) -> dict[str, str]:
    """The REPOSITORY:TAG@DIGEST lines a join prints, as repository -> digest."""
    assert result.returncode == 0, result.stderr[-4000:]
    lines = dict(line.rsplit("@", 1) for line in result.stdout.split())
    assert set(lines) == {f"{r}:{tag}" for r in repositories}
    return {r: lines[f"{r}:{tag}"] for r in repositories}


@pytest.mark.xdist_group("second-engine")  # one worker starts the second dockerd
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_agents_on_two_engines_release_their_arch_and_a_third_process_joins(
    tmp_path: Path, second_engine: str, cache_registry: str, docker_client: docker.DockerClient
) -> None:
    first, _ = start_registry(tmp_path / "r1")
    second, _ = start_registry(tmp_path / "r2")
    cache = cache_registry  # how the second engine gets its build image
    repositories = [f"{first}/xsum", f"{second}/team/xsum"]
    push = ",".join(repositories)
    tag = f"2.0.{uuid.uuid4().hex[:6]}"
    seeded = run_build_py("-p", "arm64", "-b", "--docker-registry", cache, "--push-cache", timeout=1800)
    assert seeded.returncode == 0, seeded.stderr[-2000:]

    agent_a = run_build_py(
        "-p", "amd64", "--release", tag, "--push", push, "--no-manifest",
        "--build-dir", str(tmp_path / "agent-a"), timeout=1800,
    )  # fmt: skip
    agent_b = run_build_py(
        "-p", "arm64", "--release", tag, "--push", push, "--no-manifest",
        "--docker-host", f"arm64={second_engine}", "--docker-registry", cache,
        "--build-dir", str(tmp_path / "agent-b"), timeout=1800,
    )  # fmt: skip
    assert agent_a.returncode == 0, agent_a.stderr[-4000:]
    assert agent_b.returncode == 0, agent_b.stderr[-4000:]
    assert "pulled" in agent_b.stderr  # agent B built nothing itself: its engine took the cache's image
    for address, repository in ((first, "xsum"), (second, "team/xsum")):
        assert tags(address, repository) == {f"{tag}-amd64", f"{tag}-arm64"}  # no list yet

    # A join that also names armv7 is refused, names what is missing, and pushes nothing.
    refused = run_build_py("--manifest", tag, "--push", push, "-p", "amd64,arm64,armv7")
    assert refused.returncode == 82, refused.stderr[-2000:]
    for repository in repositories:
        assert f"{repository}:{tag}-armv7 is missing" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    for address, repository in ((first, "xsum"), (second, "team/xsum")):
        assert tags(address, repository) == {f"{tag}-amd64", f"{tag}-arm64"}

    join = run_build_py("--manifest", tag, "--push", push, "-p", "amd64,arm64")
    digests = joined(join, repositories, tag)
    for repository in repositories:
        # Docker writes arm64 as arm64/v8 (as official images do); the two are the same platform.
        assert {p.removesuffix("/v8") for p in inspect_platforms(f"{repository}:{tag}")} == {
            "linux/amd64",
            "linux/arm64",
        }
    again = run_build_py("--manifest", tag, "--push", push, "-p", "arm64,amd64")  # any order
    assert joined(again, repositories, tag) == digests
    assert list_digest(first, "xsum", tag) == digests[repositories[0]]

    refused_again = run_build_py("--manifest", tag, "--push", push, "-p", "amd64,arm64,armv7")
    assert refused_again.returncode == 82
    assert list_digest(first, "xsum", tag) == digests[repositories[0]]
    assert list_digest(second, "team/xsum", tag) == digests[repositories[1]]

    # The list, run the way a user would: pulled by its tag as linux/arm64, under QEMU.
    remove_local(docker_client, repositories[1])
    ran = subprocess.run(
        ["docker", "run", "--rm", "--platform", "linux/arm64", f"{repositories[1]}:{tag}",
         "sh", "-c", "uname -m; xsum --info"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    machine, info = ran.stdout.split("\n", 1)
    assert machine == "aarch64" and "endian=little pointer_bits=64" in info

    remove_local(docker_client, *repositories)


@pytest.mark.usefixtures("no_leftovers")
def test_architecture_is_read_from_the_image_not_its_tag(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    address, _ = start_registry(tmp_path / "r")
    wrong = f"{address}/wrong"
    base = docker_client.images.get("debian:trixie")  # an amd64 image, pushed as amd64 and as arm64
    assert base.attrs["Architecture"] == "amd64"
    for suffix in ("amd64", "arm64"):
        base.tag(wrong, f"9.0-{suffix}")
        try:
            # the CLI, which has no read timeout: the SDK client's 10 s broke while a loaded
            # engine compressed the layer before its first progress line
            argv = ["docker", "push", f"{wrong}:9.0-{suffix}"]
            pushed = subprocess.run(argv, capture_output=True, text=True, check=False)
            assert pushed.returncode == 0, pushed.stderr
        finally:
            docker_client.images.remove(f"{wrong}:9.0-{suffix}")  # the tag only
    refused = run_build_py("--manifest", "9.0", "--push", wrong, "-p", "amd64,arm64")
    assert refused.returncode == 82, refused.stderr
    assert f"{wrong}:9.0-arm64 is linux/amd64, not linux/arm64" in refused.stderr
    assert f"{wrong}:9.0-amd64" not in refused.stderr  # the right one is not named
    assert tags(address, "wrong") == {"9.0-amd64", "9.0-arm64"}  # nothing pushed


@pytest.mark.usefixtures("docker_client")
def test_join_logs_in_with_docker_config_and_a_refused_login_is_81(tmp_path: Path) -> None:
    address, _ = start_registry(tmp_path / "r", login=("builder", "s3cret-pw"))
    config = tmp_path / "docker-config"
    config.mkdir()
    cli = ["docker", "--config", str(config)]
    login = subprocess.run(
        [*cli, "login", address, "-u", "builder", "--password-stdin"],
        input="s3cret-pw", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "auths" in (config / "config.json").read_text()
    ref = f"{address}/locked/xsum:9.9-amd64"
    subprocess.run(["docker", "tag", "debian:trixie", ref], check=True)
    try:
        pushed = subprocess.run([*cli, "push", ref], capture_output=True, text=True, check=False)
        assert pushed.returncode == 0, pushed.stderr
    finally:
        subprocess.run(["docker", "rmi", ref], capture_output=True, check=False)
    push = f"{address}/locked/xsum"

    result = run_build_py(
        "--manifest", "9.9", "--push", push, "-p", "amd64", env={"DOCKER_CONFIG": str(config)}
    )
    assert joined(result, [push], "9.9")

    empty = tmp_path / "no-logins"
    empty.mkdir()
    refused = run_build_py(
        "--manifest", "9.9", "--push", push, "-p", "amd64", env={"DOCKER_CONFIG": str(empty)}
    )
    assert refused.returncode == 81, refused.stderr
    assert f"docker login {address}" in refused.stderr and "Traceback" not in refused.stderr
