"""A Dockerfile from outside the build context travels inside the context's tar, under a name of
its own: the SDK would send its text as a second `dockerfile` value, which podman takes for the
file's name."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ci.engine import sdk


def test_a_dockerfile_inside_the_context_is_left_to_the_sdk(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.build.x").write_text("FROM scratch\n")
    assert sdk.context_with(tmp_path, tmp_path / "Dockerfile.build.x") is None


def test_a_dockerfile_from_elsewhere_is_shipped_in_the_context(tmp_path: Path) -> None:
    context, elsewhere = tmp_path / "docker", tmp_path / "tmp"
    (context / "install").mkdir(parents=True)
    elsewhere.mkdir()
    (context / "install" / "tools.sh").write_text("echo tools\n")
    (context / "secret.key").write_text("k\n")
    (context / ".dockerignore").write_text("# not these\n*.key\n")
    (elsewhere / "step1.Dockerfile").write_text("FROM debian:trixie\nRUN true\n")
    shipped = sdk.context_with(context, elsewhere / "step1.Dockerfile")
    assert shipped is not None
    with tarfile.open(fileobj=shipped) as tar:
        names = set(tar.getnames())
        member = tar.extractfile(sdk.SHIPPED_NAME)
        assert member is not None and member.read() == b"FROM debian:trixie\nRUN true\n"
    assert {"install/tools.sh", sdk.SHIPPED_NAME} <= names and "secret.key" not in names
