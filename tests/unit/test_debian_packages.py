"""docker/install/debian_packages.sh with fake dpkg-query and apt-get: where every package asked is
installed (a package layer made outside the image put them there), one line says so and apt does
not run; else apt's update and install do."""

from __future__ import annotations

import subprocess
from pathlib import Path

INSTALLER = Path(__file__).resolve().parents[2] / "docker" / "install" / "debian_packages.sh"


def test_the_installer_skips_apt_where_every_package_is_installed(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {
        # installed: gcc, and libc6 of both architectures; libc6:i386 half-configured
        "dpkg-query": 'case "$4" in gcc) echo installed ;; libc6) printf "installed\\ninstalled\\n" ;;'
        " libc6:i386) echo half-configured ;; *) exit 1 ;; esac",
        "apt-get": 'echo "apt-get $*"; exit 1',  # stops the installer before it cleans up
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)

    def run(*packages: str) -> subprocess.CompletedProcess[str]:
        argv = ["bash", str(INSTALLER), *packages]
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
        return subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=30)

    skipped = run("gcc", "libc6")
    assert skipped.returncode == 0
    assert skipped.stdout == "debian_packages.sh: gcc libc6 already installed; no apt-get\n"
    for missing in (("gcc", "xxd"), ("libc6:i386",), ("gcc=14",)):
        ran = run(*missing)
        assert ran.returncode == 1 and ran.stdout.split()[:1] == ["apt-get"], (missing, ran.stdout)
        assert ran.stdout.rstrip().endswith("update"), ran.stdout
