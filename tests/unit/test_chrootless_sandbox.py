"""The chrootless install's own pieces, without apt: the dpkg apt runs (a script: what it passes on
to a dpkg, here a fake one that records its arguments) and the sandbox's paths."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ci.images import chrootless
from tests.unit.helpers import dpkg_status


def fake_dpkg(tmp_path: Path, fail_on: str) -> tuple[dict[str, str], Path]:
    """PATH with a dpkg that records its arguments and fails when they hold fail_on."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    dpkg = bin_dir / "dpkg"
    dpkg.write_text(
        f'#!/bin/sh\necho "$*" >>{calls}\ncase " $* " in *" {fail_on} "*) exit 1 ;; esac\nexit 0\n'
    )
    dpkg.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, calls


def run_wrapper(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    chrootless.sandboxed(["true"], tmp_path, "root")  # writes the scripts
    return subprocess.run(
        [str(tmp_path / "dpkg"), *args], env=env, capture_output=True, text=True, check=False
    )


def test_a_failed_configure_is_left_for_the_image_and_apt_goes_on(tmp_path: Path) -> None:
    env, calls = fake_dpkg(tmp_path, "--configure")
    done = run_wrapper(tmp_path, env, "--root=/r", "--configure", "python3.13-minimal:arm64")
    assert done.returncode == 0
    assert "left for the image: dpkg --root=/r --configure python3.13-minimal:arm64" in done.stderr
    # Architecture: all packages' dependencies are the root's architecture, not this machine's
    assert calls.read_text().split() == [
        "--force-depends",
        "--root=/r",
        "--configure",
        "python3.13-minimal:arm64",
    ]


def test_unpacking_forces_dependencies_and_its_failure_is_apts(tmp_path: Path) -> None:
    env, calls = fake_dpkg(tmp_path, "--unpack")
    done = run_wrapper(tmp_path, env, "--status-fd", "9", "--unpack", "/x.deb")
    assert done.returncode == 1  # apt sees it: the install is not made here
    assert calls.read_text().split() == ["--force-depends", "--status-fd", "9", "--unpack", "/x.deb"]


def test_anything_else_is_passed_through_as_it_is(tmp_path: Path) -> None:
    env, calls = fake_dpkg(tmp_path, "--never")
    done = run_wrapper(tmp_path, env, "--assert-multi-arch")
    assert done.returncode == 0 and calls.read_text().split() == ["--assert-multi-arch"]


def test_the_refusing_script_fails_naming_the_program(tmp_path: Path) -> None:
    chrootless.sandboxed(["true"], tmp_path, "root")
    done = subprocess.run([str(tmp_path / "refuse")], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "not the root's own" in done.stderr


def test_the_sandbox_puts_the_workdir_inside_and_the_roots_var_at_var(tmp_path: Path) -> None:
    argv = chrootless.sandboxed(["apt-get", "update"], tmp_path, "root")
    assert argv[:3] == ["unshare", "--mount", "--"] and argv[-4:] == [
        str(tmp_path),
        "root",
        "apt-get",
        "update",
    ]
    script = argv[argv.index("-c") + 1]
    assert f'mount --bind "$1" {chrootless.INSIDE}' in script
    assert f'mount --bind "{chrootless.INSIDE}/$2/var" /var' in script
    assert script.index("/usr/bin/py3compile") < script.index("remount,bind,ro /")


def test_apts_configuration_names_the_root_as_the_sandbox_sees_it() -> None:
    config = chrootless.apt_config(chrootless.INSIDE / "root", ["arm64"])
    assert f'Dir "{chrootless.INSIDE}/root";' in config
    assert 'Apt::Architecture "arm64";' in config


def test_the_roots_foreign_architectures_are_added_after_its_own(tmp_path: Path) -> None:
    listed = tmp_path / "var/lib/dpkg/arch"
    listed.parent.mkdir(parents=True)
    chrootless.add_architectures(tmp_path, "arm64", [])
    assert not listed.exists()  # nothing to add: dpkg's list left as it was
    chrootless.add_architectures(tmp_path, "arm64", ["amd64"])
    assert listed.read_text() == "arm64\namd64\n"
    chrootless.add_architectures(tmp_path, "arm64", ["i386", "amd64"])
    assert listed.read_text() == "arm64\namd64\ni386\n"
    config = chrootless.apt_config(tmp_path, chrootless.root_architectures(tmp_path, "arm64"))
    assert 'Apt::Architectures { "arm64"; "amd64"; "i386"; };' in config


def test_a_package_of_two_architectures_is_told_apart_in_dpkgs_status(tmp_path: Path) -> None:
    dpkg_status(
        tmp_path,
        "Package: libc6\nStatus: install ok installed\nArchitecture: arm64\n",
        "Package: libc6\nStatus: install ok half-configured\nArchitecture: amd64\n",
        "Package: tzdata\nStatus: install ok unpacked\nArchitecture: all\n",
        "Package: pkgconf\nStatus: install ok installed\nArchitecture: arm64\n",
    )
    assert chrootless.unconfigured(tmp_path) == ["libc6:amd64", "tzdata"]
    assert chrootless.unpacked_all(tmp_path, ["libc6:amd64", "pkgconf", "pkgconf:arm64"])
    assert not chrootless.unpacked_all(tmp_path, ["pkgconf:amd64"])
