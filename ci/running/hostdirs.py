"""Do: create the host dirs a run mounts (build, ccache, the copy-on-write source's layers) as the
invoking user, so the engine never creates them root-owned; stamp a build dir with its platform."""

from __future__ import annotations

import os
from pathlib import Path

from ci.errors import DirNotWritableError
from ci.planning.builddirs import BUILD_DIR_STAMP


def prepare_dir(path: Path, stamp: str | None = None) -> None:
    """Create as the invoking user, so the engine never creates it root-owned."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if stamp is not None:  # atomically: a run killed mid-write must not leave half a stamp
            partial = path / f"{BUILD_DIR_STAMP}.{os.getpid()}"
            partial.write_text(stamp, encoding="utf-8")
            partial.replace(path / BUILD_DIR_STAMP)
        elif not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"Permission denied: '{path}'")
    except OSError as exc:
        raise DirNotWritableError(
            f"cannot create or write {path}: {exc.strerror or exc}",
            hint="choose a directory you can write with --build-dir / --ccache-dir",
        ) from exc
