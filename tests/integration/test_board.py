"""Several platforms at a glance: the live board on a real terminal (tmux), prefixed lines
through a pipe, and every platform's complete output in its build.log."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import docker
from ci.planning.platforms import discover
from ci.planning.runspec import image_ref
from tests.integration.helpers import BUILD_PY, run_build_py, tiny_platforms

PLATFORMS = ("brd-one", "brd-bad", "brd-two")
# Each platform: a line, a pause (building), the phase marker, three numbered lines (testing);
# brd-bad writes a JUnit file naming a failed test and fails.
STEP = (
    'echo "start $CI_PLATFORM"; sleep 2; echo "==> phase: testing" >&2; '
    'for i in 1 2 3; do echo "$CI_PLATFORM check $i"; echo "$CI_PLATFORM note $i" >&2; sleep 1; done; '
    'if [ "$CI_PLATFORM" = brd-bad ]; then mkdir -p junit; '
    'printf \'<testsuite tests="2" failures="1"><testcase name="vectors.ok"/>'
    '<testcase name="vectors.broken"><failure message="Failed"/></testcase></testsuite>\' '
    '> "junit/ctest-$CI_PLATFORM.xml"; exit 3; fi'
)


@pytest.fixture
def tiny(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Three platforms whose images this test builds (a RUN step: the image state lasts a
    moment), and removes afterwards."""
    nonce = uuid.uuid4().hex[:8]
    docker_dir = tiny_platforms(
        tmp_path, {name: f"FROM debian:trixie\nRUN sleep 2 && echo {nonce}-{name}\n" for name in PLATFORMS}
    )
    args = ["-p", ",".join(PLATFORMS), "-j", "2", "--docker-dir", str(docker_dir)]
    args += ["--ccache-dir", str(tmp_path / "ccache"), "--", "bash", "-c", STEP]
    yield args
    known = discover(docker_dir)  # this test's own tags only: other sessions build brd-* too
    for name in PLATFORMS:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(str(image_ref(known[name], docker_dir)))


def pane(server: str) -> str:
    return subprocess.run(
        ["tmux", "-L", server, "capture-pane", "-p", "-t", "board"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def rows(screen: str) -> dict[str, list[str]]:
    """The board's rows on a screen: platform -> [state, elapsed, latest line words...]."""
    found: dict[str, list[str]] = {}
    for line in screen.splitlines():
        words = line.split()
        if words and words[0] in PLATFORMS:
            assert words[0] not in found, f"two lines for {words[0]}:\n{screen}"
            found[words[0]] = words[1:]
    return found


@pytest.mark.serial  # reads a live tmux screen every 0.2 s for states that last seconds
@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_board_on_a_terminal_shows_one_line_per_platform_then_the_summary(
    tiny: list[str], tmp_path: Path
) -> None:
    server = f"ciharness-test-{uuid.uuid4().hex[:8]}"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    command = f"{shlex.join([sys.executable, str(BUILD_PY), *tiny])}; echo EXIT=$?; sleep 600"
    subprocess.run(
        ["tmux", "-L", server, "new-session", "-d", "-x", "160", "-y", "50", "-s", "board", "-c", str(cwd),
         "env", "-u", "CCACHE_DIR", "bash", "-c", command],
        check=True,
    )  # fmt: skip
    seen: dict[str, list[str]] = {name: [] for name in PLATFORMS}
    try:
        deadline = time.monotonic() + 600
        while "EXIT=" not in (screen := pane(server)) and time.monotonic() < deadline:
            if "tests passed/failed" not in screen:  # the board, not yet the summary table
                for name, cells in rows(screen).items():
                    if cells and (not seen[name] or seen[name][-1] != cells[0]):
                        seen[name].append(cells[0])
                    if cells[:1] == ["testing"]:
                        assert re.fullmatch(r"\d+s", cells[1]), screen
            time.sleep(0.2)
        final = screen
    finally:
        subprocess.run(["tmux", "-L", server, "kill-server"], check=False)
    assert "EXIT=3" in final, final
    for name in PLATFORMS:  # each went through the states in order
        states = [s for s in seen[name] if s in ("waiting", "image", "building", "testing")]
        assert {"image", "building", "testing"} <= set(states), (name, seen, final)
        order = ["waiting", "image", "building", "testing"]
        assert states == sorted(states, key=order.index), (name, seen)
    assert seen["brd-two"][0] == "waiting"  # -j 2: the third waits for a worker
    # The board gave way to the summary table; then what the failed platform left to read.
    table = rows(final.split("------", 1)[1].split("brd-bad: exited", 1)[0])
    assert table["brd-one"][0] == "ok" and table["brd-two"][0] == "ok"
    # A named step, not the default one: its way, no build system in its column, then its tests.
    assert table["brd-bad"][:2] == ["failed", "(3)"] and table["brd-bad"][4:7] == ["native", "-", "1/1"]
    details = final.split("brd-bad: exited with status 3", 1)[1]
    assert "failed tests: vectors.broken" in details
    assert "brd-bad check 3" in details and "brd-bad note 3" in details
    assert f"full log: {cwd / 'build.brd-bad' / 'build.log'}" in details
    assert "[brd-one]" not in final  # no prefixed output on the terminal


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_plain_output_through_a_pipe_is_prefixed_lines_and_every_line_is_in_the_logs(
    tiny: list[str], tmp_path: Path
) -> None:
    result = run_build_py(*tiny, cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "\x1b[" not in result.stderr  # no board, no colours: a CI log as it always was
    for line in result.stdout.splitlines():
        assert re.match(r"\[brd-(one|bad|two)\] ", line), line
    before_table = result.stderr.split("\nplatform ", 1)[0]
    for line in before_table.splitlines():
        assert re.match(r"\[brd-(one|bad|two)\] |build\.py: ", line), line
    for name in PLATFORMS:
        log = (tmp_path / f"build.{name}" / "build.log").read_text().splitlines()
        for stream in (result.stdout, before_table):
            printed = [
                line.split("] ", 1)[1] for line in stream.splitlines() if line.startswith(f"[{name}] ")
            ]
            assert printed, (name, stream)
            in_log = iter(log)
            assert all(line in in_log for line in printed), (name, printed, log)  # all, in order
        assert "Step 2/5 : RUN sleep 2" in "\n".join(log)  # the image build's output
        assert f"build.py: {name}: running bash -c" in "\n".join(log)  # the harness's own lines
    assert "failed tests: vectors.broken" in result.stderr
    assert f"full log: {tmp_path / 'build.brd-bad' / 'build.log'}" in result.stderr


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_one_platform_streams_live_and_logs_in_its_own_build_dir(tiny: list[str], tmp_path: Path) -> None:
    docker_dir = tiny[tiny.index("--docker-dir") + 1]
    common = ["--docker-dir", docker_dir, "--ccache-dir", str(tmp_path / "cc")]
    first = run_build_py(
        "-p", "brd-one", *common, "--", "bash", "-c", "echo one; echo warn >&2", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout == "one\n" and "\nwarn\n" in first.stderr  # as it streams today: no prefix
    log = (tmp_path / "build.brd-one" / "build.log").read_text().splitlines()
    assert "one" in log and "warn" in log
    # Switching platforms in the same place needs nothing removed: each has its own build dir.
    second = run_build_py("-p", "brd-two", *common, "--", "bash", "-c", "exit 5", cwd=tmp_path)
    assert second.returncode == 5, second.stderr[-2000:]
    assert f"full log: {tmp_path / 'build.brd-two' / 'build.log'}" in second.stderr
    assert (tmp_path / "build.brd-one" / "build.log").read_text().splitlines() == log
