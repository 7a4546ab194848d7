"""The build systems' package is the one place the harness learns a build system: every list
elsewhere (the step files runtime_functions.sh sources, the install scripts, the settings'
choices, the hints' programs, the results readers) agrees with it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ci import buildsystems
from ci.output import programs
from ci.settings import table

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "docker" / "install"


def installed(script: str) -> set[str]:
    """The Debian packages an install script names after debian_packages.sh."""
    text = (INSTALL / script).read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if "debian_packages.sh" in line and "exec" in line]
    return set(shlex.split(line.split("debian_packages.sh", 1)[1].replace('"', "")))


def registration(system: buildsystems.BuildSystem) -> tuple[int, tuple[str, ...]]:
    """The rank and markers a step file registers itself with (`_build_system NAME RANK MARKER...`)."""
    text = (buildsystems.STEPS_DIR / f"{system.name}.sh").read_text()
    (found,) = re.findall(rf"^_build_system {system.name} (\d+) (.+)$", text, re.MULTILINE)
    return int(found[0]), tuple(found[1].split())


def test_each_build_system_has_a_step_file_that_registers_it_as_the_package_does() -> None:
    assert [f.name for f in buildsystems.step_files()] == [f"{n}.sh" for n in buildsystems.names()]
    assert sorted(p.name for p in buildsystems.STEPS_DIR.glob("*.sh")) == sorted(
        f.name for f in buildsystems.step_files()
    )
    ranks = []
    for system in buildsystems.ALL:
        rank, markers = registration(system)
        assert markers == system.markers, system.name
        ranks.append(rank)
        text = (buildsystems.STEPS_DIR / f"{system.name}.sh").read_text()
        assert re.search(rf"^_build_{system.name}\(\) \{{", text, re.MULTILINE), system.name
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)  # the package's order


def test_the_install_scripts_put_each_build_systems_packages_in_its_layer() -> None:
    tools, systems = installed("debian_build_tools.sh"), installed("debian_build_systems.sh")
    for system in buildsystems.ALL:
        layer = tools if system.layer == "build-tools" else systems
        assert set(system.packages) <= layer, (system.name, system.packages)
    # The build systems' layer holds nothing but theirs (the tools' layer has the compilers too).
    assert systems == {p for s in buildsystems.ALL if s.layer == "build-systems" for p in s.packages}


def test_the_settings_choices_and_help_come_from_the_package() -> None:
    setting = table.by_name("build-system")
    assert setting.choices == ("auto", *buildsystems.names())
    assert "cmake, meson, autotools or make" in setting.help_text
    assert "{build-systems}" not in setting.project_help


def test_the_hints_know_each_build_systems_programs() -> None:
    for system in buildsystems.ALL:
        for program, package in system.programs.items():
            assert programs.package_of_program(program) == package


def test_each_cross_file_is_one_cross_toolchain_sh_writes() -> None:
    script = (INSTALL / "cross_toolchain.sh").read_text()
    for system in buildsystems.ALL:
        for path in re.findall(r"/opt/ci/\S+?\.(?:cmake|ini)", system.cross):
            assert path in script, (system.name, path)


def test_recognition_follows_the_packages_order() -> None:
    everything = {m for s in buildsystems.ALL for m in s.markers}
    assert buildsystems.recognise(everything) == buildsystems.Choice(system="cmake", reason="CMakeLists.txt")
    assert buildsystems.recognise({"Makefile", "configure.ac"}) == buildsystems.Choice(
        system="autotools", reason="configure.ac"
    )


def test_outside_the_package_few_modules_name_a_build_system() -> None:
    # The architecture table's Meson cross-file columns (arches.py) are the one place left.
    ci = REPO / "ci"
    naming = [
        str(p.relative_to(ci))
        for p in sorted(ci.rglob("*.py"))
        if "meson" in p.read_text(encoding="utf-8").lower()
        and p.parent.name not in ("buildsystems", "settings")
    ]
    assert len(naming) <= 2, naming
