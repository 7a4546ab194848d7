"""Platform discovery from docker/Dockerfile.build.<name>, name rules and selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.errors import BadPlatformNameError, PlatformDefinitionError, UnknownPlatformError
from ci.planning.platforms import Platform, discover, select, validate_name


def write(docker_dir: Path, name: str, text: str = "FROM debian:bookworm\n") -> Path:
    path = docker_dir / f"Dockerfile.build.{name}"
    path.write_text(text, encoding="utf-8")
    return path


def platform(name: str) -> Platform:
    return Platform(name=name, dockerfile=Path(f"/docker/Dockerfile.build.{name}"))


# -- discover ---------------------------------------------------------------------------------


def test_discover_reads_directives(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "test.armv7",
        "# A full armv7 userland.\n"
        "# ci.docker-platform: linux/arm/v7\n"
        "# ci.emulated: yes\n"
        "#ci.description:   32-bit ARM, emulated   \n"
        "# ci.privileged: true\n"
        "FROM arm32v7/debian:bookworm\n",
    )
    assert discover(tmp_path) == {
        "test.armv7": Platform(
            name="test.armv7",
            dockerfile=path,
            docker_platform="linux/arm/v7",
            target="linux/arm/v7",  # defaults to the docker platform
            emulated=True,
            description="32-bit ARM, emulated",
            privileged=True,
            suite="bookworm",  # of its FROM: the compilers it has
        )
    }


def test_discover_defaults_without_directives(tmp_path: Path) -> None:
    path = write(tmp_path, "amd64")
    assert discover(tmp_path)["amd64"] == Platform(name="amd64", dockerfile=path, suite="bookworm")
    p = discover(tmp_path)["amd64"]
    assert (p.docker_platform, p.target, p.emulated, p.privileged) == (
        "linux/amd64",
        "linux/amd64",
        False,
        False,
    )


def test_discover_target_differs_from_docker_platform(tmp_path: Path) -> None:
    write(tmp_path, "armv7", "# ci.docker-platform: linux/amd64\n# ci.target: linux/arm/v7\nFROM x\n")
    p = discover(tmp_path)["armv7"]
    assert (p.docker_platform, p.target) == ("linux/amd64", "linux/arm/v7")


def test_discover_sorts_by_name_and_ignores_other_files(tmp_path: Path) -> None:
    for name in ("s390x", "amd64", "arm64"):
        write(tmp_path, name)
    (tmp_path / "Dockerfile").write_text("FROM x\n", encoding="utf-8")
    (tmp_path / "Dockerfile.test").write_text("FROM x\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# ci.bogus: ignored here\n", encoding="utf-8")
    (tmp_path / "install").mkdir()
    assert list(discover(tmp_path)) == ["amd64", "arm64", "s390x"]


def test_discover_empty_dir(tmp_path: Path) -> None:
    assert discover(tmp_path) == {}


@pytest.mark.parametrize("value", ["yes", "YES", "true", "1"])
def test_true_spellings(tmp_path: Path, value: str) -> None:
    write(tmp_path, "p", f"# ci.emulated: {value}\nFROM x\n")
    assert discover(tmp_path)["p"].emulated is True


@pytest.mark.parametrize("value", ["no", "False", "0"])
def test_false_spellings(tmp_path: Path, value: str) -> None:
    write(tmp_path, "p", f"# ci.privileged: {value}\nFROM x\n")
    assert discover(tmp_path)["p"].privileged is False


def test_unknown_directive_is_an_error_that_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "amd64", "# ci.platfrom: linux/amd64\nFROM x\n")
    with pytest.raises(PlatformDefinitionError) as info:
        discover(tmp_path)
    assert "ci.platfrom" in info.value.message
    assert "Dockerfile.build.amd64" in info.value.message
    assert "ci.docker-platform" in info.value.hint


@pytest.mark.parametrize(
    ("directive", "in_message"),
    [
        ("# ci.emulated: maybe", "ci.emulated must be yes or no, not 'maybe'"),
        ("# ci.privileged: on", "ci.privileged must be yes or no"),
        ("# ci.emulated:", "ci.emulated must be yes or no, not ''"),
        ("# ci.docker-platform: arm64", "ci.docker-platform 'arm64'"),
        ("# ci.docker-platform: windows/amd64", "ci.docker-platform 'windows/amd64'"),
        ("# ci.docker-platform: linux/ARM64", "ci.docker-platform 'linux/ARM64'"),
        ("# ci.docker-platform: linux/arm/7", "ci.docker-platform 'linux/arm/7'"),
        ("# ci.target: linux/arm/v7/extra", "ci.target 'linux/arm/v7/extra'"),
    ],
)
def test_bad_directive_values(tmp_path: Path, directive: str, in_message: str) -> None:
    write(tmp_path, "p", f"{directive}\nFROM x\n")
    with pytest.raises(PlatformDefinitionError, match=r"Dockerfile\.build\.p") as info:
        discover(tmp_path)
    assert in_message in info.value.message


@pytest.mark.parametrize("name", ["Armv7", "arm..v7", "-arm", "arm_", "arm v7", ""])
def test_invalid_file_names(tmp_path: Path, name: str) -> None:
    write(tmp_path, "amd64")
    write(tmp_path, name)
    with pytest.raises(PlatformDefinitionError, match="not a valid platform name"):
        discover(tmp_path)


# -- validate_name ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["test.armv7", "amd64", "x86_64", "arm-v7", "a", "0"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "a/b", "../amd64", "..", "a..b", ".hidden", "amd64.", "Amd64", "AMD64", "arm v7", "a__b", "a.-b"],
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(BadPlatformNameError) as info:
        validate_name(name)
    assert repr(name) in info.value.message
    assert "-l" in info.value.hint


# -- select -----------------------------------------------------------------------------------


KNOWN = {name: platform(name) for name in ("amd64", "arm64", "armv7", "test.armv7")}


def names(chosen: list[Platform]) -> list[str]:
    return [p.name for p in chosen]


@pytest.mark.parametrize(
    ("requested", "want"),
    [
        (["armv7"], ["armv7"]),
        (["test.armv7", "amd64"], ["test.armv7", "amd64"]),  # the order given, not sorted
        (["arm64", "amd64", "arm64", "arm64"], ["arm64", "amd64"]),  # no repeats
        ([], []),
    ],
)
def test_select_keeps_order_without_repeats(requested: list[str], want: list[str]) -> None:
    assert names(select(requested, KNOWN)) == want


def test_select_returns_the_discovered_platform_objects() -> None:
    assert select(["armv7"], KNOWN)[0] is KNOWN["armv7"]


def test_unknown_platform_names_the_closest_match_and_the_valid_ones() -> None:
    with pytest.raises(UnknownPlatformError) as info:
        select(["amd64", "armv8"], KNOWN)
    message = info.value.message
    assert "unknown platform 'armv8'" in message
    assert "did you mean 'armv7'?" in message
    assert "valid platforms: amd64, arm64, armv7, test.armv7" in message
    assert "Dockerfile.build.armv8" in info.value.hint


def test_unknown_platform_without_a_close_match() -> None:
    with pytest.raises(UnknownPlatformError) as info:
        select(["zzzzzz"], KNOWN)
    assert "did you mean" not in info.value.message
    assert "valid platforms: amd64, arm64, armv7, test.armv7" in info.value.message


def test_unknown_platform_when_none_are_defined() -> None:
    with pytest.raises(UnknownPlatformError, match="valid platforms: none"):
        select(["amd64"], {})


@pytest.mark.parametrize("name", ["../amd64", "AMD64", "a/b"])
def test_select_rejects_bad_names_before_looking_them_up(name: str) -> None:
    with pytest.raises(BadPlatformNameError):
        select([name], KNOWN)


# -- function_suffix --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("amd64", "amd64"), ("test.armv7", "test_armv7"), ("arm-v7", "arm_v7"), ("a.b-c_d", "a_b_c_d")],
)
def test_function_suffix(name: str, suffix: str) -> None:
    assert platform(name).function_suffix == suffix


def test_release_defaults_to_yes_and_test_userlands_say_no() -> None:
    known = discover(Path(__file__).resolve().parents[2] / "docker")
    assert {name for name, p in known.items() if not p.release} == {"test.arm64", "test.armv7"}
