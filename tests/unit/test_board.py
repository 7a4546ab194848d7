"""The live board's rows and a platform's log: phases from output lines, what a row shows,
every line recorded, the last ones kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from ci.output import board, platformlog, progress


@pytest.mark.parametrize(
    ("line", "phase"),
    [
        ("==> phase: testing", "testing"),
        ("==> phase: packaging  ", "packaging"),
        ("==> ctest on amd64", None),  # the step's own log lines are just lines
        ("  ==> phase: testing", None),  # only at the start of a line
        ("==> phase: Testing", None),
        ("==> phase: testing now", None),
        ("[amd64] ==> phase: testing", None),
    ],
)
def test_phase_of(line: str, phase: str | None) -> None:
    assert progress.phase_of(line) == phase


def test_printable_drops_colours_carriage_returns_and_controls() -> None:
    assert progress.printable("\x1b[1;32m[ 50%] Building C object\x1b[0m") == "[ 50%] Building C object"
    assert progress.printable("10%\r55%\rdone\tnow") == "done now"
    assert progress.printable("\x07bell\x00") == "bell"


def test_elapsed_text() -> None:
    assert [progress.elapsed_text(s) for s in (0, 9.9, 59.5, 60, 754)] == [
        "0s",
        "9s",
        "59s",
        "1m00s",
        "12m34s",
    ]


def rendered(b: board.Board) -> list[str]:
    console = Console(file=io.StringIO(), width=60, color_system=None)
    console.print(b.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return [line.rstrip() for line in str(text).splitlines()]


def test_board_has_one_row_per_platform_with_state_time_and_latest_line() -> None:
    b = board.Board(["amd64", "s390x", "riscv64"])
    b.state("amd64", "image")
    b.line("amd64", "Step 1/3 : FROM debian:bookworm")
    b.state("s390x", "building")
    b.line("s390x", "x" * 200)
    b.state("s390x", "failed")
    rows = rendered(b)
    assert len(rows) == 3
    assert rows[0].split()[:4] == ["amd64", "image", "0s", "Step"]
    assert rows[1].split()[:3] == ["s390x", "failed", "0s"] and rows[1].endswith("…")
    assert len(rows[1]) <= 60
    assert rows[2].split() == ["riscv64", "waiting", "0s"]


def test_platform_log_records_every_line_keeps_the_last_and_reports_phases(tmp_path: Path) -> None:
    shown: list[bytes] = []
    states: list[tuple[str, str]] = []
    lines: list[str] = []

    class Seen(progress.Quiet):
        def state(self, platform: str, state: str) -> None:
            states.append((platform, state))

        def line(self, platform: str, text: str) -> None:
            lines.append(text)

    path = tmp_path / "build.log"
    with platformlog.opened("armv7", path, lambda c, _e: shown.append(c), Seen()) as plog:
        plog(b"configure\nbu", False)
        plog(b"warning: x\r\n", True)
        plog(b"ild\n==> phase: testing\n", False)
        for i in range(platformlog.TAIL_LINES + 5):
            plog(f"test {i}\n".encode(), False)
        plog.record("build.py: a harness line")
        plog(b"no newline at the end", True)
    text = path.read_text().splitlines()
    assert text[:4] == ["configure", "warning: x", "build", "==> phase: testing"]
    assert "build.py: a harness line" in text and text[-1] == "no newline at the end"
    assert b"".join(shown).startswith(b"configure\nbuwarning: x\r\nild\n")  # shown as it came
    assert states == [("armv7", "testing")]
    assert lines[:3] == ["configure", "warning: x", "build"]
    assert len(plog.tail) == platformlog.TAIL_LINES and plog.tail[-1] == "no newline at the end"
    assert "build.py: a harness line" not in plog.tail


def test_platform_log_records_the_error_that_ends_the_run(tmp_path: Path) -> None:
    from ci.errors import ImageBuildError

    path = tmp_path / "build.log"
    with (
        pytest.raises(ImageBuildError),
        platformlog.opened("x", path, lambda c, e: None, progress.Quiet()) as plog,
    ):
        plog(b"RUN exit 9\n", True)
        raise ImageBuildError("image build failed", hint="read the build output above")
    assert path.read_text() == (
        "RUN exit 9\nbuild.py: image build failed (hint: read the build output above)\n"
    )
