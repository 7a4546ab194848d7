"""UBSan in a whole emulated userland (test.arm64: compiled and tested under QEMU) names the
planted signed overflow: the `emulated` row of docs/toolchains.md's table. In the lane, after
test.arm64's image is made there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import ARM64_USERLAND, run_build_py
from tests.integration.projects import write
from tests.integration.test_sanitizers import PLANTED

pytestmark = [ARM64_USERLAND, pytest.mark.lane, pytest.mark.usefixtures("no_leftovers")]


def test_undefined_names_the_signed_overflow_in_the_emulated_arm64_userland(tmp_path: Path) -> None:
    source = write(tmp_path / "src", PLANTED)
    result = run_build_py(
        "-p",
        "test.arm64",
        "--source",
        str(source),
        "--build-system",
        "cmake",
        "--sanitize",
        "undefined",
        cwd=tmp_path,
        timeout=1200,
    )
    assert result.returncode != 0 and "(emulated)" in result.stderr, result.stderr[-3000:]
    line = "test.arm64: signed: UndefinedBehaviorSanitizer: signed integer overflow in add_one planted.c:10"
    assert line in result.stderr, result.stderr[-3000:]
