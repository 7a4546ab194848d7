"""Which RUN steps only install Debian packages (made natively for an emulated image), and how
the Dockerfile goes on after one: read from the repository's own Dockerfiles and small ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.images import chrootless
from ci.planning import packagesteps
from ci.planning.packagesteps import first_package_step, layer_dockerfile, script_packages
from tests.unit.helpers import dpkg_status

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def read_docker(path: str) -> str | None:
    found = DOCKER / path
    return found.read_text(encoding="utf-8") if found.is_file() else None


def test_the_userland_images_build_tools_step_is_found_with_its_packages() -> None:
    text = (DOCKER / "Dockerfile.build.test.arm64").read_text(encoding="utf-8")
    step = first_package_step(text, read_docker)
    assert step is not None
    assert step.packages == script_packages(read_docker("install/debian_build_tools.sh") or "")
    assert {"gcc", "g++", "cmake", "ca-certificates"} <= set(step.packages)
    assert step.before.rstrip().endswith("/opt/ci/install/")  # up to the COPY before the RUN
    assert step.after == ""


def test_a_build_images_two_package_steps_are_found_in_turn_and_the_toolchain_step_is_not_one() -> None:
    text = (DOCKER / "Dockerfile.build.arm64").read_text(encoding="utf-8")
    first = first_package_step(text, read_docker)
    assert first is not None and "cmake" in first.packages
    rest = first.continued_from("ciharness/native-packages:one")
    assert rest.startswith("FROM ciharness/native-packages:one\n")
    second = first_package_step(rest, read_docker)
    assert second is not None and {"meson", "autoconf", "python3"} <= set(second.packages)
    last = second.continued_from("ciharness/native-packages:two")
    assert "RUN /opt/ci/install/cross_toolchain.sh arm64" in last
    assert first_package_step(last, read_docker) is None  # it writes files too: not packages only


def test_the_stages_args_go_on_after_the_cut_and_the_rest_is_as_written() -> None:
    text = (
        "ARG SUITE=trixie\nFROM debian:${SUITE}\nARG QEMU_CPU=max\n"
        "COPY install/debian_packages.sh /opt/ci/install/\n"
        "RUN /opt/ci/install/debian_packages.sh zlib1g-dev libssl-dev:arm64\n"
        "# a comment\nRUN make \\\n    all\n"
    )
    step = first_package_step(text, read_docker)
    assert step is not None
    assert step.packages == ("zlib1g-dev", "libssl-dev:arm64")
    assert step.stage_args == ("ARG QEMU_CPU=max",)
    assert step.continued_from("x") == "FROM x\nARG QEMU_CPU=max\n# a comment\nRUN make \\\n    all\n"


@pytest.mark.parametrize(
    "run",
    [
        "RUN /opt/ci/install/debian_packages.sh zlib1g-dev && make",  # more than the install
        "RUN /opt/ci/install/debian_packages.sh $(cat list)",
        "RUN --network=none /opt/ci/install/debian_packages.sh zlib1g-dev",
        "RUN /opt/ci/install/debian_packages.sh",  # nothing to install
        "RUN /elsewhere/debian_packages.sh zlib1g-dev",  # not the copied installer
        "RUN apt-get install -y zlib1g-dev",
        "RUN /opt/ci/install/debian_build_tools.sh extra",  # the script takes no arguments
        "RUN /opt/ci/install/cross_toolchain.sh arm64",
    ],
)
def test_anything_but_a_plain_call_of_the_installer_is_left_to_the_image(run: str) -> None:
    text = (
        "FROM debian:trixie\nCOPY install/debian_packages.sh install/debian_build_tools.sh "
        f"install/cross_toolchain.sh /opt/ci/install/\n{run}\n"
    )
    assert first_package_step(text, read_docker) is None


def test_the_exec_form_and_a_file_copied_to_a_path_of_its_own_count() -> None:
    text = (
        "FROM debian:trixie\nCOPY install/debian_packages.sh /usr/local/bin/debian_packages.sh\n"
        'RUN ["/usr/local/bin/debian_packages.sh", "xxd"]\n'
    )
    step = first_package_step(text, read_docker)
    assert step is not None and step.packages == ("xxd",)


def test_several_stages_or_an_escape_directive_are_left_alone() -> None:
    run = "COPY install/debian_packages.sh /opt/ci/install/\nRUN /opt/ci/install/debian_packages.sh xxd\n"
    assert first_package_step(f"FROM debian:trixie AS a\n{run}FROM a\n", read_docker) is None
    assert first_package_step(f"# escape=`\nFROM debian:trixie\n{run}", read_docker) is None


@pytest.mark.parametrize(
    ("script", "packages"),
    [
        (
            '#!/bin/sh\nset -euo pipefail\nexec "$(dirname "$0")/debian_packages.sh" a b \\\n    c\n',
            ("a", "b", "c"),
        ),
        ('#!/bin/sh\nexec "$(dirname "$0")/debian_packages.sh" gcc\n', ("gcc",)),
        ('#!/bin/sh\necho hi\nexec "$(dirname "$0")/debian_packages.sh" gcc\n', None),
        ('#!/bin/sh\nexec "$(dirname "$0")/debian_packages.sh" "$@"\n', None),
        ('#!/bin/sh\nexec "$(dirname "$0")/other.sh" gcc\n', None),
    ],
)
def test_a_script_counts_where_its_one_command_is_the_installer(
    script: str, packages: tuple[str, ...] | None
) -> None:
    assert script_packages(script) == packages


def test_the_layers_dockerfile_finishes_in_the_image_what_could_not_be_done_here() -> None:
    plain = layer_dockerfile("sha256:abc", [], [])
    assert plain == "FROM sha256:abc\nADD layer.tar /\nRUN ldconfig\n"
    both = layer_dockerfile("sha256:abc", ["var/lib/apt/lists/it's"], ["ccache"])
    assert "rm -rf -- '/var/lib/apt/lists/it'\"'\"'s'" in both
    assert "DEBIAN_FRONTEND=noninteractive dpkg --configure -a && ldconfig" in both


def test_what_the_layer_finishes_in_the_image_runs_under_the_images_qemu_cpu() -> None:
    told = layer_dockerfile("sha256:abc", [], ["ca-certificates"], "max,pauth-impdef=on")
    assert told.splitlines()[:2] == ["FROM sha256:abc", "ARG QEMU_CPU=max,pauth-impdef=on"]
    assert "ARG" not in layer_dockerfile("sha256:abc", [], ["ca-certificates"], None)


def test_copied_files_map_the_image_paths_to_the_context() -> None:
    copied = packagesteps.copied_files(
        "FROM x\nCOPY a/one.sh a/two.sh /opt/\nCOPY --chown=1:1 b.sh /usr/bin/b\nCOPY --from=s /x /y\n"
    )
    assert copied == {"/opt/one.sh": "a/one.sh", "/opt/two.sh": "a/two.sh", "/usr/bin/b": "b.sh"}


def test_changes_are_new_and_changed_paths_and_removed_ones(tmp_path: Path) -> None:
    (tmp_path / "same").write_text("1")
    (tmp_path / "changed").write_text("1")
    (tmp_path / "gone").write_text("1")
    before = chrootless.snapshot(tmp_path)
    (tmp_path / "changed").write_text("22")
    (tmp_path / "gone").unlink()
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "new").write_text("1")
    changed, removed = chrootless.changes(before, chrootless.snapshot(tmp_path))
    assert changed == ["changed", "dir", "dir/new"]
    assert removed == ["gone"]


def test_dpkgs_status_tells_what_is_left_to_configure(tmp_path: Path) -> None:
    dpkg_status(
        tmp_path,
        "Package: gcc\nStatus: install ok installed\nDescription: x\n more\n",
        "Package: ccache\nStatus: install ok half-configured\n",
        "Package: old\nStatus: deinstall ok config-files\n",
        "Package: ca-certificates\nStatus: install ok unpacked\n",
    )
    assert chrootless.unconfigured(tmp_path) == ["ca-certificates", "ccache"]
    assert chrootless.unpacked_all(tmp_path, ["gcc", "ccache:arm64", "ca-certificates=1"])
    assert not chrootless.unpacked_all(tmp_path, ["gcc", "old"])


def test_apt_is_told_the_roots_architectures_its_own_first(tmp_path: Path) -> None:
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    assert chrootless.root_architectures(tmp_path, "arm64") == ["arm64"]
    (tmp_path / "var/lib/dpkg/arch").write_text("arm64\namd64\n")
    assert chrootless.root_architectures(tmp_path, "arm64") == ["arm64", "amd64"]
    config = chrootless.apt_config(tmp_path, ["arm64", "amd64"])
    assert 'Apt::Architecture "arm64";' in config and f'Dir "{tmp_path}";' in config
    assert 'APT::Install-Recommends "false";' in config
