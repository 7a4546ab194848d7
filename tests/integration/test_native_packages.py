"""An emulated image's package steps are made on this machine, without QEMU: two arm64 platforms
sharing a `debian_packages.sh` step, built at once, get one package layer made here (an ADD in their
history, not the RUN), with what could not be configured here finished in the image, under QEMU:
ccache's links (its postinst calls a program of the target's) and Python's byte-compiling (the
target's Python is not this machine's). Python's own preinst writes to /var without DPKG_ROOT:
that is the root's /var here."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import run_build_py, tiny_platforms

REPO = Path(__file__).resolve().parents[2]
MADE_HERE = "installing ccache xxd python3-minimal for linux/arm64 here, without emulation"


def arm64_platforms(tmp_path: Path, names: tuple[str, ...]) -> Path:
    step = (
        "# ci.docker-platform: linux/arm64\n# ci.emulated: yes\nFROM debian:trixie\n"
        "COPY marker.txt install/debian_packages.sh /opt/ci/install/\n"
        "RUN /opt/ci/install/debian_packages.sh ccache xxd python3-minimal\n"
    )
    docker_dir = tiny_platforms(tmp_path, {name: f"{step}RUN echo {name} > /own\n" for name in names})
    (docker_dir / "install").mkdir()
    shutil.copy2(REPO / "docker/install/debian_packages.sh", docker_dir / "install")
    (docker_dir / "marker.txt").write_text(uuid.uuid4().hex)  # a layer of this test's own
    return docker_dir


@pytest.mark.usefixtures("no_leftovers")
def test_two_arm64_images_share_one_package_layer_made_here_and_finished_in_the_image(
    tmp_path: Path, cleanup_images: list[str], docker_client: docker.DockerClient
) -> None:
    names = ("na", "nb")
    docker_dir = arm64_platforms(tmp_path, names)
    result = run_build_py(
        "--docker-dir", str(docker_dir), "-p", ",".join(names), "-j", "2", "-b", timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    refs = result.stdout.split()
    cleanup_images.extend(refs)
    assert result.stderr.count(MADE_HERE) == 1, result.stderr[-3000:]
    histories = [{step["Id"] for step in docker_client.images.get(ref).history()} for ref in refs]
    layers = {
        tag
        for image in docker_client.images.list(name="ciharness/native-packages")
        for tag in image.tags
        if all(image.id in history for history in histories)
    }
    cleanup_images.extend(layers)
    assert len(layers) == 1, layers  # both images go on from the one layer made here

    for ref in refs:
        steps = [str(h.get("CreatedBy", "")) for h in docker_client.images.get(ref).history()]
        assert not any("debian_packages.sh ccache" in s for s in steps), steps  # not run in the image
        assert any("ADD file:" in s for s in steps) and any("dpkg --configure -a" in s for s in steps)
        # finished under the CPU the image's own RUN steps have (not QEMU's QARMA5 default)
        assert any("QEMU_CPU=max,pauth-impdef=on" in s and "dpkg --configure -a" in s for s in steps), steps
    check = (
        "dpkg-query -W -f '${Package} ${Status}\\n' ccache xxd python3.13-minimal && dpkg --audit"
        " && uname -m && python3 -c 'import sys; print(sys.implementation.cache_tag)'"
        " && ls /usr/lib/python3.13/__pycache__ | grep -c cpython-313"
        " && ccache --version | head -1 && ls /usr/lib/ccache"
        ' && test -z "$(ls /var/lib/apt/lists | grep -v -e lock -e partial)"'
        " && ldconfig -p | head -1 && cat /own"
    )
    ran = docker_client.containers.run(refs[0], ["sh", "-c", check], remove=True, platform="linux/arm64")
    said = ran.decode()
    assert "ccache install ok installed" in said and "xxd install ok installed" in said, said
    assert "python3.13-minimal install ok installed" in said and "cpython-313" in said, said
    name = refs[0].split("/", 1)[1].split(":", 1)[0]
    assert "aarch64" in said and "ccache version" in said and said.rstrip().endswith(name)
    assert " 0 libs found" not in said, said  # the loader's cache made by the target's ldconfig
