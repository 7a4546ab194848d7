"""Image resolution against the real engine: content-hash tags, no needless builds, failures."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import run_build_py, tiny_platforms

BUILT = "building image"

# One worker: test_run_only_never_builds compares the ciharness/tiny images before and after.
pytestmark = pytest.mark.xdist_group("tiny-images")


def tiny(tmp_path: Path, marker: str, extra: str = "") -> Path:
    """A one-layer platform on the bootstrapped base; unique per test so tags never collide."""
    docker_dir = tiny_platforms(
        tmp_path,
        {
            "tiny": "# ci.description: a test platform\nFROM debian:trixie\n"
            "COPY payload.txt /opt/payload.txt\n"
            f"RUN echo {marker} > /opt/marker\n{extra}"
        },
    )
    (docker_dir / "payload.txt").write_text("one\n")
    return docker_dir


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_existing_image_is_reused_and_content_changes_make_a_new_tag(
    tmp_path: Path, cleanup_images: list[str], docker_client: docker.DockerClient
) -> None:
    docker_dir = tiny(tmp_path, uuid.uuid4().hex)
    first = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "-b")
    assert first.returncode == 0, first.stderr
    ref = first.stdout.strip()
    cleanup_images.append(ref)
    assert BUILT in first.stderr
    labels = docker_client.images.get(ref).labels
    assert labels["io.ciharness.platform"] == "tiny"

    again = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "-b")
    assert again.returncode == 0
    assert again.stdout.strip() == ref
    assert BUILT not in again.stderr and "Step" not in again.stdout + again.stderr

    (docker_dir / "payload.txt").write_text("two\n")
    changed = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "-b")
    assert changed.returncode == 0
    new_ref = changed.stdout.strip()
    cleanup_images.append(new_ref)
    assert new_ref != ref and BUILT in changed.stderr

    forced = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "-b", "--no-cache")
    assert forced.returncode == 0
    assert forced.stdout.strip() == new_ref
    assert BUILT in forced.stderr
    assert "Using cache" not in forced.stdout + forced.stderr


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_run_only_never_builds(tmp_path: Path, docker_client: docker.DockerClient) -> None:
    docker_dir = tiny(tmp_path, uuid.uuid4().hex)
    before = {i.id for i in docker_client.images.list(name="ciharness/tiny")}
    result = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "-R", "--", "true")
    assert result.returncode == 72
    assert "--run-only" in result.stderr and BUILT not in result.stderr
    assert {i.id for i in docker_client.images.list(name="ciharness/tiny")} == before


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_failing_build_step_exits_71_with_the_engine_message(tmp_path: Path) -> None:
    docker_dir = tiny(tmp_path, uuid.uuid4().hex, extra="RUN echo about to fail && exit 3\n")
    result = run_build_py("-p", "tiny", "--docker-dir", str(docker_dir), "--", "true")
    assert result.returncode == 71
    assert "about to fail" in result.stderr  # build steps stream live
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line or "failed" in line]
    assert any("returned a non-zero code: 3" in line for line in errors), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("no_leftovers")
def test_base_image_that_cannot_be_found_pulled_or_bootstrapped_exits_70(tmp_path: Path) -> None:
    docker_dir = tiny_platforms(tmp_path, {"nobase": "FROM example.invalid/nothing:1\nRUN true\n"})
    result = run_build_py("-p", "nobase", "--docker-dir", str(docker_dir), "--", "true", timeout=120)
    assert result.returncode == 70
    assert "cannot be pulled" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_platforms_built_at_once_run_their_shared_first_steps_once(
    tmp_path: Path, cleanup_images: list[str], docker_client: docker.DockerClient
) -> None:
    """Three platforms whose Dockerfiles start with the same two RUN steps, built side by side:
    each shared step runs once and the three images hold the very same layers for them."""
    shared = (
        f"FROM debian:trixie\nRUN echo {uuid.uuid4().hex} && date +%s%N > /one && echo one-$((6*7))"
        " && sleep 2\n"
        "RUN date +%s%N > /two && echo two-$((6*7))\n"
    )
    names = ("sa", "sb", "sc")
    docker_dir = tiny_platforms(tmp_path, {name: f"{shared}RUN echo {name} > /own\n" for name in names})
    result = run_build_py("--docker-dir", str(docker_dir), "-p", ",".join(names), "-j", "3", "-b")
    assert result.returncode == 0, result.stderr[-3000:]
    refs = result.stdout.split()
    cleanup_images.extend(refs)
    assert len(refs) == 3
    shown = result.stdout + result.stderr
    assert (shown.count("one-42"), shown.count("two-42")) == (1, 1), shown[-3000:]
    layers = {tuple(docker_client.images.get(ref).attrs["RootFS"]["Layers"]) for ref in refs}
    assert len({lay[:-1] for lay in layers}) == 1 and len(layers) == 3


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_images_dropped_in_on_platforms_built_at_once_take_each_platforms_own_layers(
    tmp_path: Path, cleanup_images: list[str]
) -> None:
    """Three platforms sharing a COPY, each then with its own RUN, as the cross images are
    (cross_toolchain.sh <arch> after the same COPY lines), built side by side; then three images
    dropped in on them (their lines plus a RUN, as a project's zlib image is). The COPY is made
    once, so every own RUN hangs under it and each dropped-in image finds its platform's: none
    runs again. Made at once by three builds, the COPY would be three layers and the builder
    would look under the newest, where only one platform's RUN is."""
    shared = "FROM debian:trixie\nCOPY payload.txt /opt/\n"
    names = ("pa", "pb", "pc")
    texts = {n: f"{shared}RUN echo {n}-own-$((6*7)) && touch /own\nENV PLATFORM={n}\n" for n in names}
    texts |= {f"{name}z": f"{texts[name]}RUN echo {name}-z-$((6*7)) && touch /z\n" for name in names}
    docker_dir = tiny_platforms(tmp_path, texts)
    (docker_dir / "payload.txt").write_text(uuid.uuid4().hex)

    platforms = run_build_py("--docker-dir", str(docker_dir), "-p", ",".join(names), "-j", "3", "-b")
    assert platforms.returncode == 0, platforms.stderr[-3000:]
    cleanup_images.extend(platforms.stdout.split())
    shown = platforms.stdout + platforms.stderr
    assert [shown.count(f"{name}-own-42") for name in names] == [1, 1, 1], shown[-3000:]

    dropped_in = [f"{name}z" for name in names]
    derived = run_build_py("--docker-dir", str(docker_dir), "-p", ",".join(dropped_in), "-j", "3", "-b")
    assert derived.returncode == 0, derived.stderr[-3000:]
    cleanup_images.extend(derived.stdout.split())
    shown = derived.stdout + derived.stderr
    assert [shown.count(f"{name}-z-42") for name in names] == [1, 1, 1], shown[-3000:]
    assert [shown.count(f"{name}-own-42") for name in names] == [0, 0, 0], shown[-3000:]
