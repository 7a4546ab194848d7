"""Do: move a run's inputs into a container and its results out, for engines on other machines.

A remote engine cannot bind-mount this machine's directories, so the source tree and the step
script go in as one tar (owned by the run's user) before the container starts, and the build
dir comes back out after it ends. Extraction refuses absolute paths, '..', links that leave the
build dir, and device files.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ci import buildsystems
from ci.planning.builddirs import BUILD_LOG
from ci.planning.runspec import STEPS_IN_CONTAINER

STEPS = STEPS_IN_CONTAINER.lstrip("/")


def _add_owned(tar: tarfile.TarFile, path: Path, arcname: str, uid: int, gid: int) -> None:
    info = tar.gettarinfo(str(path), arcname)
    info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
    if info.isreg():
        with path.open("rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)


def pack_inputs(source: Path, runtime_functions: Path, uid: int, gid: int) -> bytes:
    """work/src/..., an empty work/build/, work/runtime_functions.sh and the build systems' step
    files it sources (work/ci/buildsystems/<name>.sh), all owned by uid:gid."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("work", "work/build", "work/ci", STEPS):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, uid, gid
            tar.addfile(info)
        _add_owned(tar, source, "work/src", uid, gid)
        for path in sorted(source.rglob("*")):
            if path.is_symlink() or path.is_file() or path.is_dir():
                _add_owned(tar, path, f"work/src/{path.relative_to(source).as_posix()}", uid, gid)
        _add_owned(tar, runtime_functions, "work/runtime_functions.sh", uid, gid)
        for step in buildsystems.step_files():
            _add_owned(tar, step, f"{STEPS}/{step.name}", uid, gid)
    return buffer.getvalue()


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def safe_member(name: str, top: str) -> PurePosixPath | None:
    """The path of a member below top ('build'), or None if it is top itself or unsafe."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != top:
        return None
    rest = PurePosixPath(*path.parts[1:]) if len(path.parts) > 1 else None
    return rest


def unpack_results(chunks: Iterator[bytes], build_dir: Path) -> int:
    """Extract the container's /work/build (a tar whose top entry is 'build') into build_dir,
    all but its build.log."""
    count = 0
    with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks)), mode="r|") as tar:
        for member in tar:
            rest = safe_member(member.name, "build")
            if rest is None or member.isdev() or member.isfifo() or str(rest) == BUILD_LOG:
                continue  # build.log is this machine's own record of the run, never the copy's
            target = build_dir / rest
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    continue
                target.unlink(missing_ok=True)
                with target.open("wb") as out:
                    while block := source.read(1 << 20):
                        out.write(block)
                target.chmod(member.mode & 0o777)
                count += 1
            elif member.issym():
                link = PurePosixPath(member.linkname)
                if link.is_absolute() or ".." in link.parts:
                    continue  # would point outside the build dir
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)
                target.symlink_to(member.linkname)
    return count
