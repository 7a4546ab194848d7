"""Projects whose own scripts and test drivers want more than the defaults, against the real engine
and QEMU: an autotools project from git whose autogen.sh exits 0 without writing configure and
whose `make check` runs a DejaGnu suite (amd64 and armv7), the project file's bootstrap command,
a bootstrap that leaves no configure at all (exit 93), and the hints for a program or an autoconf
macro a build looks for in vain; and every package those hints name exists in the images' suite."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import docker
from ci.buildsystems import autotools
from ci.errors import ExitCode
from ci.output import libraries, programs
from tests.integration.helpers import Result, elf_identity, run_build_py, summary_rows
from tests.integration.projects import write

pytestmark = pytest.mark.usefixtures("amd64_image", "no_leftovers")

# autotools as in git (configure.ac, Makefile.am, no configure), with automake's dejagnu option:
# `make check` runs runtest over testsuite/greet.all/*.exp, which spawn the program built.
GREET = {
    "configure.ac": """\
AC_INIT([greet], [1.0])
AC_CONFIG_AUX_DIR([build-aux])
AM_INIT_AUTOMAKE([foreign dejagnu])
AC_PROG_CC
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
""",
    "Makefile.am": """\
bin_PROGRAMS = greet
greet_SOURCES = greet.c
DEJATOOL = greet
RUNTESTDEFAULTFLAGS = --tool greet --srcdir $(srcdir)/testsuite GREET=$$(pwd)/greet
""",
    "greet.c": """\
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    puts(argc > 1 && strcmp(argv[1], "bye") == 0 ? "goodbye" : "hello");
    return 0;
}
""",
    # As some real projects do: from git only with -s, else advice and exit 0 (no configure).
    "autogen.sh": """\
#!/bin/sh
if [ "$1" != "-s" ]; then
    echo "autogen.sh: building from git is for developers: use a release tarball, or ./autogen.sh -s"
    exit 0
fi
echo "autogen.sh: bootstrapping"
autoreconf -fi
""",
    "testsuite/config/unix.exp": "proc greet_version {} {}\n",
    "testsuite/greet.all/hello.exp": """\
set test "greet says hello"
spawn $GREET
expect {
    "hello" { pass $test }
    default { fail $test }
}
set test "greet says goodbye"
spawn $GREET bye
expect {
    "goodbye" { pass $test }
    default { fail $test }
}
""",
    "ciharness.toml": 'build-packages = ["dejagnu"]\n',
}
TWO = ("amd64", "armv7")
ORDER = {"amd64": 62, "armv7": 40}  # ELF e_machine: x86-64, ARM


def build(src: Path, base: Path, *args: str, platforms: tuple[str, ...] = ("amd64",)) -> Result:
    return run_build_py(
        "-p", ",".join(platforms), "--source", str(src), "--build-dir", str(base / "b"),
        "--ccache-dir", str(base / "ccache"), "--progress", "plain", *args, timeout=1800,
    )  # fmt: skip


@pytest.mark.early  # two project images (dejagnu), autoreconf, configure, make check under QEMU
def test_a_picky_autogen_and_a_dejagnu_suite_pass_on_amd64_and_armv7(tmp_path: Path) -> None:
    src = write(tmp_path / "src", GREET)
    result = build(src, tmp_path, platforms=TWO)
    assert result.returncode == 0, result.stderr[-4000:]
    said = "the project's autogen.sh exited 0 but wrote no configure: running autoreconf -fi instead"
    assert result.stderr.count(said) == 2, result.stderr[-4000:]
    rows = summary_rows(result.stderr)
    for name in TWO:
        assert rows[name][4:6] == ["autotools", "2/0"], rows[name]
        built = Path(f"{tmp_path / 'b'}.{name}")
        suite = ET.parse(built / "junit" / f"dejagnu-{name}.xml").getroot()
        assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (f"dejagnu.{name}", "2", "0")
        cases = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}
        assert cases == {
            (f"{name}.greet.hello", "greet says hello"),
            (f"{name}.greet.hello", "greet says goodbye"),
        }
        assert "# of expected passes\t\t2" in (built / "greet.sum").read_text()
        assert elf_identity(built / "greet")[2] == ORDER[name]  # the target's program ran the suite


def test_the_project_files_bootstrap_command_runs_the_projects_script_its_way(tmp_path: Path) -> None:
    project = GREET["ciharness.toml"] + 'bootstrap = "./autogen.sh -s"\n'
    src = write(tmp_path / "src", {**GREET, "ciharness.toml": project})
    (src / "autogen.sh").chmod(0o755)
    result = build(src, tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    shown = result.stdout + result.stderr
    assert "running the project file's bootstrap command (./autogen.sh -s)" in shown
    assert "autogen.sh: bootstrapping" in shown and "wrote no configure" not in shown


def test_no_configure_after_the_bootstrap_and_autoreconf_is_one_line_and_exit_93(tmp_path: Path) -> None:
    # A project whose bootstrap writes nothing, on a PATH whose autoreconf writes nothing either.
    fake = "#!/bin/sh\necho 'autoreconf: nothing to do'\n"
    project = 'bootstrap = "true"\n[environment]\nPATH = "/work/src/tools:/usr/bin:/bin"\n'
    src = write(tmp_path / "src", {**GREET, "tools/autoreconf": fake, "ciharness.toml": project})
    (src / "tools" / "autoreconf").chmod(0o755)
    result = build(src, tmp_path)
    assert result.returncode == ExitCode.NO_CONFIGURE, result.stderr[-3000:]
    (line,) = [line for line in (result.stdout + result.stderr).splitlines() if "left no configure" in line]
    assert "the project file's bootstrap command (true) and autoreconf -fi left no configure" in line
    assert "No such file or directory" not in result.stderr


MESON_HELP2MAN = {
    "meson.build": """\
project('manpages', 'c')
help2man = find_program('help2man', required: false)
if not help2man.found()
  error('help2man is required to build the manual pages')
endif
""",
}
LTDL = {
    "configure.ac": """\
AC_INIT([symbols], [1.0])
AM_INIT_AUTOMAKE([foreign])
AC_PROG_CC
LT_INIT
LT_SYS_SYMBOL_USCORE
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
""",
    "Makefile.am": "bin_PROGRAMS =\n",
}


@pytest.mark.parametrize(
    ("files", "named"),
    [
        (MESON_HELP2MAN, "the build looked for the program help2man and the image has none: "
         "Debian's package help2man provides it; add \"help2man\" to `build-packages`"),
        (LTDL, "configure.ac uses the autoconf macro LT_SYS_SYMBOL_USCORE, which no .m4 file in the "
         "image defines: Debian's package libltdl-dev ships the .m4 file that defines it; "
         "add \"libltdl-dev\" to `build-packages`"),
    ],
    ids=["meson-help2man", "autotools-libltdl"],
)  # fmt: skip
def test_a_program_or_macro_the_build_lacks_gets_a_hint_naming_its_package(
    tmp_path: Path, files: dict[str, str], named: str
) -> None:
    result = build(write(tmp_path / "src", files), tmp_path)
    assert result.returncode not in (0, ExitCode.NO_TESTS), result.stderr[-3000:]
    hints = [line for line in result.stderr.splitlines() if "hint: " in line]
    assert any(named in line for line in hints), hints


def test_every_package_the_hints_name_exists_in_the_images_debian_suite(
    docker_client: docker.DockerClient, amd64_image: str
) -> None:
    names = sorted(
        set(programs.programs().values())
        | set(autotools.MACRO_PACKAGES.values())
        | set(libraries.PACKAGE_OF_LIBRARY.values())
    )
    # One apt-cache call for all (one a package re-reads the cache each time: 100 s under load).
    script = 'apt-get update -qq >/dev/null && apt-cache show --no-all-versions "$@" 2>/dev/null; true'
    out = docker_client.containers.run(
        amd64_image, ["bash", "-c", script, "check", *names], user="root", remove=True
    ).decode()
    found = set(re.findall(r"^Package: (\S+)$", out, re.MULTILINE))
    assert len(names) > 100 and sorted(set(names) - found) == []
