"""The build context a bootstrapped base is made from: its rootfs, and Debian's container config."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from ci.images import bootstrap


def test_the_context_holds_the_rootfs_and_the_config_files_readable_by_all(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(b"a tar")
    workdir = bootstrap.image_context(rootfs)
    try:
        assert (workdir / "rootfs.tar").read_bytes() == b"a tar"
        assert "COPY etc/ /etc/" in (workdir / "Dockerfile").read_text().splitlines()
        assert (workdir / "etc/dpkg/dpkg.cfg.d/docker-apt-speedup").read_text() == "force-unsafe-io\n"
        languages = (workdir / "etc/apt/apt.conf.d/docker-no-languages").read_text()
        assert languages == 'Acquire::Languages "none";\n'
        modes = {
            str(path.relative_to(workdir)): stat.S_IMODE(path.stat().st_mode)
            for path in (workdir / "etc").rglob("*")
        }
        assert modes == {
            "etc/dpkg": 0o755, "etc/dpkg/dpkg.cfg.d": 0o755, "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": 0o644,
            "etc/apt": 0o755, "etc/apt/apt.conf.d": 0o755, "etc/apt/apt.conf.d/docker-no-languages": 0o644,
        }  # fmt: skip
        assert stat.S_IMODE((workdir / "etc").stat().st_mode) == 0o755
    finally:
        shutil.rmtree(workdir)
