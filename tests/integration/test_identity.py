"""Who runs, and what they see: file ownership as a non-root user, --print-docker-run, -i."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import docker
from tests.integration.helpers import BUILD_PY, TEST_USER, drive_pty, run_build_py, tiny_platforms


def owned_by(path: Path) -> set[int]:
    return {p.lstat().st_uid for p in [path, *path.rglob("*")]}


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_non_root_user_gets_only_files_it_owns_and_the_same_image(
    docker_user: pwd.struct_passwd, amd64_image: str
) -> None:
    work = Path(tempfile.mkdtemp(prefix="ciharness-user-"))  # pytest's tmp_path is root-only
    os.chown(work, docker_user.pw_uid, docker_user.pw_gid)
    try:
        check_user_run(work, docker_user, amd64_image)
    finally:
        shutil.rmtree(work)


def check_user_run(work: Path, docker_user: pwd.struct_passwd, amd64_image: str) -> None:
    build, ccache = work / "build", work / "nested" / "ccache"
    result = run_build_py(
        "-p", "amd64", "--build-dir", str(build), "--ccache-dir", str(ccache),
        user=TEST_USER, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (build / "xsum").is_file()
    assert owned_by(build) == {docker_user.pw_uid}
    assert owned_by(work / "nested") == {docker_user.pw_uid}
    # The image does not depend on who built it: same content-hash tag for root and the user.
    same = run_build_py("-p", "amd64", "-b", user=TEST_USER, cwd=work)
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip() == amd64_image


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_printed_docker_run_line_runs_the_same_thing(tmp_path: Path) -> None:
    dirs = ["--build-dir", str(tmp_path / "b"), "--ccache-dir", str(tmp_path / "c")]
    probe = "id -u; id -g; pwd; echo $CI_PLATFORM $CCACHE_DIR $MY_VAR; ls /work; cat /proc/1/comm"
    command = ["-e", "MY_VAR=a=b c", "--", "sh", "-c", probe]
    printed = run_build_py("-p", "amd64", *dirs, "--print-docker-run", *command)
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.strip()
    assert line.startswith("docker run --rm --init ") and "\n" not in line
    # Nothing ran: the build dir holds only the copy-on-write source's empty layer dirs, made so
    # that the line works when pasted.
    made = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "b").rglob("*"))
    assert made == ["b/.ciharness-source", "b/.ciharness-source/changes", "b/.ciharness-source/work"]
    assert "type=overlay" in line

    (tmp_path / "c").mkdir()
    by_hand = subprocess.run(shlex.split(line), capture_output=True, text=True, check=False)
    assert by_hand.returncode == 0, by_hand.stderr
    through_build_py = run_build_py("-p", "amd64", *dirs, *command)
    assert through_build_py.returncode == 0, through_build_py.stderr
    assert through_build_py.stdout == by_hand.stdout
    assert "a=b c" in by_hand.stdout
    assert by_hand.stdout.strip().endswith(("docker-init", "tini"))  # an init is PID 1 in both


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_interactive_shell_has_the_run_setup_and_passes_the_exit_status(tmp_path: Path) -> None:
    argv = [
        sys.executable, str(BUILD_PY), "-p", "amd64", "-i",
        "--build-dir", str(tmp_path / "b"), "--ccache-dir", str(tmp_path / "c"),
    ]  # fmt: skip
    env_line = b'PS1="$ " exec bash --norc -i\n'
    script = b"echo user=$(id -u) dir=$PWD plat=$CI_PLATFORM sum=$((6*7)); exit 3\n"
    status, shown = drive_pty([*argv, "--", "bash", "-c", env_line.decode().strip()], script)
    assert f"user={os.getuid()} dir=/work/build plat=amd64 sum=42" in shown, shown
    assert status == 3


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
def test_two_users_building_one_image_at_once_build_it_once(
    docker_user: pwd.struct_passwd, docker_client: docker.DockerClient
) -> None:
    """Root and a user of the docker group, each from their own home, ask at the same moment for
    an image that does not exist yet: one builds it, the other waits and takes it (the lock is
    the machine's, as the engine is)."""
    work = Path(tempfile.mkdtemp(prefix="ciharness-user-"))  # pytest's tmp_path is root-only
    marker = f"built {uuid.uuid4().hex}"
    dockerfile = f"FROM debian:trixie\nRUN echo '{marker}' > /built && sleep 3\n"
    docker_dir = tiny_platforms(work, {"lockprobe": dockerfile})
    for path in (work, docker_dir):
        path.chmod(0o755)
    args = ("--docker-dir", str(docker_dir), "-p", "lockprobe", "-b")
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(run_build_py, *args, cwd=work),
                pool.submit(run_build_py, *args, cwd=work, user=TEST_USER, env={"HOME": docker_user.pw_dir}),
            ]
            results = [run.result() for run in runs]
        for result in results:
            assert result.returncode == 0, result.stderr[-2000:]
        assert results[0].stdout.strip() == results[1].stdout.strip()
        waited = ["waiting up to" in result.stderr for result in results]
        assert sorted(waited) == [False, True], [result.stderr[-1500:] for result in results]
        built = [result.stderr.count(marker) + result.stdout.count(marker) for result in results]
        assert sorted(built) == [0, 1], built
    finally:
        shutil.rmtree(work)
        for image in docker_client.images.list("ciharness/lockprobe"):
            docker_client.images.remove(str(image.id), force=True)
