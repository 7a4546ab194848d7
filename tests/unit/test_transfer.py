"""Copying a run's inputs in and results out of a remote engine's container, safely."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

from ci.running.transfer import pack_inputs, safe_member, unpack_results


def test_pack_inputs_owns_everything_by_the_user(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "CMakeLists.txt").write_text("project(x)\n")
    (src / "sub" / "a.c").write_text("int a;\n")
    script = tmp_path / "rf.sh"
    script.write_text("#!/bin/sh\n")
    data = pack_inputs(src, script, 1234, 5678)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert {"work", "work/build", "work/src", "work/src/CMakeLists.txt", "work/src/sub/a.c",
            "work/runtime_functions.sh"} <= set(members)  # fmt: skip
    assert {(m.uid, m.gid) for m in members.values()} == {(1234, 5678)}


def chunks_of(entries: list[tuple[tarfile.TarInfo, bytes]]) -> Iterator[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, payload in entries:
            info.size = len(payload) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(payload) if info.isreg() else None)
    data = buffer.getvalue()
    return iter([data[i : i + 700] for i in range(0, len(data), 700)])  # arbitrary chunking


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o755
    return info


def test_unpack_results_extracts_the_build_dir_and_refuses_escapes(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    outside = tmp_path / "outside.txt"
    count = unpack_results(
        chunks_of([
            (entry("build", tarfile.DIRTYPE), b""),
            (entry("build/junit", tarfile.DIRTYPE), b""),
            (entry("build/junit/ctest.xml"), b"<testsuite/>"),
            (entry("build/xsum"), b"\x7fELF" + b"x" * 5000),
            (entry("build/../outside.txt"), b"escape"),
            (entry("/etc/evil"), b"escape"),
            (entry("build/link", tarfile.SYMTYPE, "/etc/passwd"), b""),
            (entry("build/ok-link", tarfile.SYMTYPE, "xsum"), b""),
            (entry("build/dev", tarfile.CHRTYPE), b""),
        ]),
        build,
    )  # fmt: skip
    assert count == 2
    assert (build / "junit" / "ctest.xml").read_bytes() == b"<testsuite/>"
    assert (build / "xsum").stat().st_size == 5004 and (build / "xsum").stat().st_mode & 0o111
    assert not outside.exists() and not (build / "link").exists() and not (build / "dev").exists()
    assert (build / "ok-link").resolve() == (build / "xsum").resolve()


def test_safe_member() -> None:
    assert str(safe_member("build/a/b", "build")) == "a/b"
    assert safe_member("build", "build") is None
    assert safe_member("other/a", "build") is None
    assert safe_member("build/../x", "build") is None


def test_unpack_results_keeps_this_machines_build_log(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "build.log").write_text("written here\n")
    count = unpack_results(
        chunks_of([
            (entry("build/build.log"), b"the container's own file of that name\n"),
            (entry("build/sub/build.log"), b"deeper ones are ordinary outputs\n"),
        ]),
        build,
    )  # fmt: skip
    assert count == 1
    assert (build / "build.log").read_text() == "written here\n"
    assert (build / "sub" / "build.log").is_file()
