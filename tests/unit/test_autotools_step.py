"""runtime_functions.sh's autotools bootstrap (_autotools_generate), run by bash over a tree the
test writes, with stand-ins for autoreconf on PATH: which command writes configure, the line
saying a script wrote none, and exit 93 when nothing did."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ci.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "runtime_functions.sh"
STEP = REPO / "ci" / "buildsystems" / "autotools.sh"
# autoreconf stand-ins: one that writes configure as the real one does, one that writes nothing.
WRITES = '#!/bin/sh\necho "autoreconf $*" >>calls\nprintf "#!/bin/sh\\n" >configure\n'
WRITES_NOTHING = '#!/bin/sh\necho "autoreconf $*" >>calls\n'


def generate(
    src: Path, autoreconf: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """_autotools_generate over src, the script's functions sourced without its dispatch line."""
    bin_dir = src.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "autoreconf").write_text(autoreconf)
    (bin_dir / "autoreconf").chmod(0o755)
    functions = "\n".join(SCRIPT.read_text().splitlines()[:-1])  # all but `_dispatch "$@"`
    functions += f"\n. {STEP}"  # (the script sources it from beside itself; here it has no path)
    run_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CI_SOURCE_DIR": str(src), **(env or {})}
    return subprocess.run(
        ["bash", "-c", functions + "\n_autotools_generate"],
        cwd=src, env=run_env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def tree(tmp_path: Path, autogen: str | None) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "configure.ac").write_text("AC_INIT([x], [1])\nAC_OUTPUT\n")
    if autogen is not None:
        (src / "autogen.sh").write_text(autogen)
    return src


def calls(src: Path) -> list[str]:
    path = src / "calls"
    return path.read_text().splitlines() if path.exists() else []


# Like some real projects' autogen.sh: from git, only with -s; else advice and exit 0.
PICKY = (
    '#!/bin/sh\n[ "$1" = -s ] || { echo "use a release tarball, or ./autogen.sh -s"; exit 0; }\n'
    'echo "autogen -s" >>calls\nautoreconf -fi\n'
)


def test_an_autogen_that_writes_no_configure_is_said_and_autoreconf_runs(tmp_path: Path) -> None:
    src = tree(tmp_path, PICKY)
    done = generate(src, WRITES)
    assert done.returncode == 0, done.stderr
    assert (
        "the project's autogen.sh exited 0 but wrote no configure: running autoreconf -fi instead"
        in done.stderr
    )
    assert 'bootstrap = "./autogen.sh ..."' in done.stderr
    assert calls(src) == ["autoreconf -fi"] and (src / "configure").is_file()


def test_the_project_files_bootstrap_command_runs_instead(tmp_path: Path) -> None:
    src = tree(tmp_path, PICKY)
    done = generate(src, WRITES, {"CI_BOOTSTRAP": "sh ./autogen.sh -s"})
    assert done.returncode == 0, done.stderr
    assert "running the project file's bootstrap command (sh ./autogen.sh -s)" in done.stderr
    assert "wrote no configure" not in done.stderr
    assert calls(src) == ["autogen -s", "autoreconf -fi"]


def test_an_existing_configure_is_kept(tmp_path: Path) -> None:
    src = tree(tmp_path, PICKY)
    (src / "configure").write_text("#!/bin/sh\n")
    done = generate(src, WRITES)
    assert (done.returncode, done.stderr, calls(src)) == (0, "", [])


@pytest.mark.parametrize("autogen", [None, PICKY])
def test_no_configure_after_everything_is_one_line_and_exit_93(tmp_path: Path, autogen: str | None) -> None:
    src = tree(tmp_path, autogen)
    done = generate(src, WRITES_NOTHING)
    assert done.returncode == int(ExitCode.NO_CONFIGURE) == 93
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("runtime_functions.sh:")]
    ran = "the project's autogen.sh and autoreconf -fi" if autogen else "autoreconf -fi"
    assert line.startswith(f"runtime_functions.sh: {ran} left no configure in {src}")
    assert "bootstrap =" in line and "ciharness.toml" in line


def test_the_steps_status_is_the_exit_code_the_harness_documents() -> None:
    text = STEP.read_text()
    assert re.search(r"return 93\n", text) and "ExitCode.NO_CONFIGURE" in text
    assert os.access(SCRIPT, os.X_OK)
