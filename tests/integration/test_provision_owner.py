"""The quick start on a shared machine: a user of the docker group clones the repo, root runs
the provisioning in that clone, the user builds; the clone stays the user's, to the last file."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.helpers import REPO
from tests.readme import block

TEST_USER = "ciharness-qs"


@pytest.fixture(scope="module")
def clone_user() -> pwd.struct_passwd:
    """A non-root user in the docker group, with a home of its own (where its pip and npm caches
    stay between runs, as a real user's would)."""
    if os.geteuid() != 0:
        message = "NOT ROOT: cannot create the test user or provision as root; run the suite as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--groups", "docker", TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False)


def as_user(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """argv run as the test user (runuser sets its HOME, USER and LOGNAME), from cwd."""
    return run(["runuser", "-u", TEST_USER, "--", *argv], cwd, env)


def not_owned_by(path: Path, uid: int) -> list[str]:
    return [str(p.relative_to(path.parent)) for p in [path, *path.rglob("*")] if p.lstat().st_uid != uid]


@pytest.mark.usefixtures("amd64_image")
def test_root_provision_leaves_the_users_clone_to_the_user(clone_user: pwd.struct_passwd) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CCACHE_DIR", "VIRTUAL_ENV")}
    home = Path(tempfile.mkdtemp(prefix="ciharness-qs-"))  # pytest's tmp_path is root-only
    os.chown(home, clone_user.pw_uid, clone_user.pw_gid)
    clone = home / "r"
    # The repo under test is root's: its git refuses to serve another user unless told it is safe,
    # in a config file of the test's own (the user's real git config is left alone).
    (home / "gitconfig").write_text("[safe]\n\tdirectory = *\n", encoding="utf-8")
    git_env = {**env, "GIT_CONFIG_GLOBAL": str(home / "gitconfig")}
    provision, build = (part.strip() for part in block("quickstart")[0].split("&&"))
    took: dict[str, float] = {}
    try:
        cloned = as_user(["git", "clone", "-q", "--no-local", str(REPO), str(clone)], home, git_env)
        assert cloned.returncode == 0, cloned.stderr

        started = time.monotonic()
        provisioned = run(["bash", "-c", provision], clone, env)  # as root
        took["provision as root"] = time.monotonic() - started
        assert provisioned.returncode == 0, provisioned.stderr[-3000:]
        assert (clone / ".venv" / "bin" / "python").exists() and (clone / ".tools" / "node_modules").is_dir()
        assert list((clone / "ci").glob("*/__pycache__/*.pyc")), "compileall did not reach the subpackages"
        foreign = not_owned_by(clone, clone_user.pw_uid)
        assert foreign == [], f"{len(foreign)} files in the clone are not the user's: {foreign[:20]}"

        started = time.monotonic()
        built = as_user(["bash", "-c", build], clone, env)
        took["build as the user"] = time.monotonic() - started
        assert built.returncode == 0, built.stderr[-3000:]
        assert (clone / "build.amd64" / "junit" / "ctest-amd64.xml").is_file()

        # Root running build.py in the clone, byte-code writing on and none compiled yet, leaves
        # nothing of its own there either.
        for cache in list((clone / "ci").rglob("__pycache__")):
            shutil.rmtree(cache)
        root_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        listed = run(["./build.py", "-l"], clone, root_env)
        assert listed.returncode == 0, listed.stderr[-3000:]
        foreign = not_owned_by(clone, clone_user.pw_uid)
        assert foreign == [], f"root's build.py left {len(foreign)} files of its own: {foreign[:20]}"

        removed = as_user(["rm", "-rf", str(clone)], home, env)
        assert removed.returncode == 0, removed.stderr[-3000:]
        assert not clone.exists()
    finally:
        print(", ".join(f"{what}: {seconds:.1f} s" for what, seconds in took.items()))
        shutil.rmtree(home, ignore_errors=True)
