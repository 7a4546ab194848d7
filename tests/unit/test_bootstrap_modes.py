"""How a Debian base is bootstrapped: chrootless (no QEMU) only for suites whose essential
packages support DPKG_ROOT, sandboxed, and the usual way when that fails."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from ci.images import bootstrap
from ci.images.baseimage import BootstrapRecipe


def recipe(suite: str) -> BootstrapRecipe:
    return BootstrapRecipe(
        image="debian:" + suite, docker_platform="linux/arm64", suite=suite, debian_arch="arm64",
        mirror="http://deb.example",
    )  # fmt: skip


def test_older_suites_are_not_tried_chrootless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda argv, **kw: ran.append(argv))
    assert not bootstrap.chrootless(recipe("bookworm"), tmp_path, "it")
    assert ran == []


def test_chrootless_runs_sandboxed_with_its_temp_dir_in_the_writable_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def fake_run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 0, b"")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert bootstrap.chrootless(recipe("trixie"), tmp_path, "it")
    [argv] = ran
    assert argv[:6] == ["unshare", "--mount", "--", "sh", "-c", bootstrap.READ_ONLY_ROOT]
    assert argv[6:9] == ["sh", str(tmp_path), "env"] and f"TMPDIR={tmp_path}" in argv
    assert "--mode=chrootless" in argv and argv[-3:] == [
        "trixie",
        str(tmp_path / "rootfs.tar"),
        "http://deb.example",
    ]


def test_a_failed_chrootless_bootstrap_is_a_warning_and_leaves_no_tar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "rootfs.tar").write_bytes(b"half")

    def fake_run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(argv, 1, b"I: running\nE: dpkg-root script failed\n")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with caplog.at_level(logging.WARNING):
        assert not bootstrap.chrootless(recipe("trixie"), tmp_path, "it")
    assert "dpkg-root script failed" in caplog.text and "in a chroot" in caplog.text
    assert not (tmp_path / "rootfs.tar").exists()
