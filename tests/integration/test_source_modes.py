"""The source tree as builds see it: copy-on-write by default (writes land in the build dir, the
tree stays byte-for-byte as it was, several platforms at once), in place with --writable-source,
read-only on request; on Docker and on podman, as root and as a non-root user."""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.helpers import BUILD_PY, as_user, run_build_py

# A project like the ones that broke on a read-only source: its configure step renames a header
# inside the source dir, and its test writes its output under the source dir.
CMAKELISTS = """\
cmake_minimum_required(VERSION 3.16)
project(inplace C)
if(EXISTS ${CMAKE_SOURCE_DIR}/config.h.in)
  file(RENAME ${CMAKE_SOURCE_DIR}/config.h.in ${CMAKE_SOURCE_DIR}/config.h)
endif()
add_executable(answer main.c)
target_include_directories(answer PRIVATE ${CMAKE_SOURCE_DIR})
enable_testing()
set(out ${CMAKE_SOURCE_DIR}/out)
add_test(NAME writes_into_source
         COMMAND sh -c "mkdir -p ${out} && $<TARGET_FILE:answer> > ${out}/answer-${CI_NAME}.txt")
"""


def make_project(root: Path) -> Path:
    src = root / "src"
    src.mkdir(parents=True)
    (src / "CMakeLists.txt").write_text(CMAKELISTS.replace("${CI_NAME}", "$ENV{CI_PLATFORM}"))
    (src / "config.h.in").write_text("#define ANSWER 42\n")
    (src / "main.c").write_text(
        '#include <stdio.h>\n#include "config.h"\nint main(void){printf("%d\\n", ANSWER);return 0;}\n'
    )
    (src / "data").mkdir()
    (src / "data" / "keep.txt").write_text("unchanged\n")
    return src


def fingerprint(tree: Path) -> dict[str, tuple[str, int]]:
    """Every entry under tree: its content hash (or kind) and its mode."""
    found: dict[str, tuple[str, int]] = {}
    for path in sorted([tree, *tree.rglob("*")]):
        st = path.lstat()
        kind = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else "dir"
        found[str(path.relative_to(tree))] = (kind, st.st_mode)
    return found


def test_concurrent_platforms_write_into_their_own_view_of_the_tree(engine: str, tmp_path: Path) -> None:
    src = make_project(tmp_path)
    before = fingerprint(src)
    result = run_build_py(
        "--engine", engine, "-p", "amd64,armv7", "-j", "2", "--source", str(src),
        "--build-dir", str(tmp_path / "b"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert fingerprint(src) == before, "the source tree changed"
    for name in ("amd64", "armv7"):
        changes = tmp_path / f"b.{name}" / ".ciharness-source" / "changes"
        assert (changes / "config.h").read_text() == "#define ANSWER 42\n"
        assert (changes / "out" / f"answer-{name}.txt").read_text() == "42\n"
        whiteout = (changes / "config.h.in").lstat()  # the rename's deletion, as overlayfs records it
        assert stat.S_ISCHR(whiteout.st_mode)
        assert not (tmp_path / f"b.{name}" / ".ciharness-source" / "work" / "work").exists()


def test_writable_source_writes_into_the_tree(engine: str, tmp_path: Path) -> None:
    src = make_project(tmp_path)
    result = run_build_py(
        "--engine", engine, "-p", "amd64", "--writable-source", "--source", str(src),
        "--build-dir", str(tmp_path / "b"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (src / "config.h").is_file() and not (src / "config.h.in").exists()
    assert (src / "out" / "answer-amd64.txt").read_text() == "42\n"
    assert not (tmp_path / "b" / ".ciharness-source").exists()


def test_read_only_source_refuses_writes_and_says_how_to_allow_them(tmp_path: Path) -> None:
    src = make_project(tmp_path)
    before = fingerprint(src)
    result = run_build_py(
        "-p", "amd64", "--source-mode", "read-only", "--source", str(src), "--build-dir", str(tmp_path / "b"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Read-only file system" in result.stdout + result.stderr
    assert fingerprint(src) == before


def test_printed_line_makes_the_same_overlay_when_pasted(tmp_path: Path) -> None:
    src = make_project(tmp_path)
    before = fingerprint(src)
    build = tmp_path / "b"
    printed = run_build_py(
        "-p", "amd64", "--print-docker-run", "--source", str(src), "--build-dir", str(build),
        "--", "sh", "-c", "mv config.h.in config.h && echo pasted > new.txt", cwd=tmp_path,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.strip().splitlines()[-1]
    assert "--mount" in line and "type=overlay" in line
    argv = shlex.split(line)
    workdir_at = argv.index("--workdir")
    argv[workdir_at + 1] = "/work/src"  # the pasted command runs in the source view
    pasted = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert pasted.returncode == 0, pasted.stderr
    assert (build / ".ciharness-source" / "changes" / "new.txt").read_text() == "pasted\n"
    assert fingerprint(src) == before


def test_non_root_user_can_remove_everything_it_built(
    engine: str,
    rootless_user: pwd.struct_passwd,
) -> None:
    """Docker: a user in the docker group. Podman: the same user, rootless."""
    work = Path(tempfile.mkdtemp(prefix="ciharness-cow-"))
    try:
        src = make_project(work)
        subprocess.run(
            ["chown", "-R", f"{rootless_user.pw_uid}:{rootless_user.pw_gid}", str(work)], check=True
        )
        before = fingerprint(src)
        result = as_user(
            rootless_user,
            [sys.executable, str(BUILD_PY), "--engine", engine, "-p", "amd64", "--source", str(src),
             "--build-dir", str(work / "b"), "--ccache-dir", str(work / "c"),
             "--", "sh", "-c", f"cd /work/src && ({WRITES}) 2>&1; true"],
            work,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert fingerprint(src) == before
        if engine == "podman":  # rootless podman cannot mount an overlay here: said once, read-only
            assert result.stderr.count("rootless podman cannot mount the source copy-on-write") == 1
            assert "Read-only file system" in result.stdout
        else:
            assert result.stdout == ""
            assert (work / "b" / ".ciharness-source" / "changes" / "new").is_file()
        listed = as_user(rootless_user, ["find", str(work / "b"), "!", "-user", rootless_user.pw_name], work)
        foreign = [
            line
            for line in listed.stdout.splitlines()
            if not is_removable_whiteout(Path(line), rootless_user)
        ]
        assert foreign == [], foreign
        removed = as_user(rootless_user, ["rm", "-rf", str(work / "b")], work)
        assert removed.returncode == 0, removed.stderr
        assert not (work / "b").exists()
    finally:
        shutil.rmtree(work, ignore_errors=True)


WRITES = "mv config.h.in config.h && rm data/keep.txt && touch new"


def is_removable_whiteout(path: Path, user: pwd.struct_passwd) -> bool:
    """Overlayfs records a deletion as a root-owned character device 0/0; in a directory the
    user owns, the user removes it like any other file."""
    st = path.lstat()
    parent = path.parent.lstat()
    return stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 0 and parent.st_uid == user.pw_uid


def test_engine_without_overlay_support_falls_back_to_read_only_once(tmp_path: Path) -> None:
    """A build dir on a file system that cannot hold an overlay's upper layer (itself an overlay
    here): the run says so once, mounts the source read-only, and goes on."""
    if os.geteuid() != 0:
        pytest.skip("NOT ROOT: mounting the test's own overlay needs root")
    layers = tmp_path / "fs"
    for d in ("lower", "upper", "work", "merged"):
        (layers / d).mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={layers / 'lower'},upperdir={layers / 'upper'},workdir={layers / 'work'}",
         str(layers / "merged")],
        check=True,
    )  # fmt: skip
    try:
        src = tmp_path / "src"
        src.mkdir()
        result = run_build_py(
            "-p", "amd64,i386", "--build-dir", str(layers / "merged" / "b"), "--source", str(src),
            "--", "sh", "-c", "touch /work/src/x 2>/dev/null && echo writable || echo read-only",
            cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stderr.count("cannot mount the source copy-on-write") == 1, result.stderr
        assert result.stdout.count("read-only") == 2, result.stdout
        assert not (src / "x").exists()
    finally:
        subprocess.run(["umount", str(layers / "merged")], check=False)
