"""Which runtime function or command a run executes, decided from the script's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.errors import UnknownFunctionError, UsageError
from ci.planning.functions import SCRIPT_IN_CONTAINER, default_function, defined_functions, resolve_command
from ci.planning.platforms import Platform

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """\
#!/usr/bin/env bash
set -euo pipefail
_log() { printf '%s\\n' "$*"; }
function _helper() {
    :
}
build_generic() {
    _log build
}
function unittest_xsum() {
    :
}
function describe_platform () {
    :
}
build_test_armv7 () {
    :
}
# commented_out() {
BUILD_DIR=/work/build
echo "not_a_function"
_dispatch "$@"
"""

FUNCTIONS = ["build_generic", "describe_platform", "unittest_ctest", "unittest_xsum"]


def platform(name: str) -> Platform:
    return Platform(name=name, dockerfile=Path(f"/docker/Dockerfile.build.{name}"))


# -- defined_functions ------------------------------------------------------------------------


def test_defined_functions_finds_both_syntaxes_and_skips_helpers() -> None:
    assert defined_functions(SCRIPT) == [
        "build_generic",
        "build_test_armv7",
        "describe_platform",
        "unittest_xsum",
    ]


def test_defined_functions_are_sorted_and_unique() -> None:
    assert defined_functions("b() {\n}\na() {\n}\nb() {\n}\n") == ["a", "b"]


def test_defined_functions_of_the_real_script() -> None:
    text = (REPO / "runtime_functions.sh").read_text(encoding="utf-8")
    found = defined_functions(text)
    assert {"build_generic", "unittest_ctest", "unittest_xsum", "describe_platform"} <= set(found)
    assert not [name for name in found if name.startswith("_")]


def test_no_functions() -> None:
    assert defined_functions("#!/bin/sh\necho hello\n") == []


# -- default_function -------------------------------------------------------------------------


def test_default_function_prefers_the_platform_specific_build() -> None:
    assert default_function(platform("test.armv7"), [*FUNCTIONS, "build_test_armv7"]) == "build_test_armv7"


def test_default_function_falls_back_to_build_generic() -> None:
    assert default_function(platform("test.armv7"), FUNCTIONS) == "build_generic"
    # build_armv7 is another platform's
    assert default_function(platform("test.armv7"), [*FUNCTIONS, "build_armv7"]) == "build_generic"


# -- resolve_command --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "raw", "want"),
    [
        (["unittest_xsum"], [], (SCRIPT_IN_CONTAINER, "unittest_xsum")),
        (["unittest_xsum", "-R", "x y"], [], (SCRIPT_IN_CONTAINER, "unittest_xsum", "-R", "x y")),
        ([], ["bash", "-c", "exit 7"], ("bash", "-c", "exit 7")),
        ([], ["not_a_function", "--help"], ("not_a_function", "--help")),  # raw: never checked
        ([], [], (SCRIPT_IN_CONTAINER, "build_generic")),
    ],
)
def test_resolve_command(words: list[str], raw: list[str], want: tuple[str, ...]) -> None:
    assert resolve_command(platform("amd64"), words, raw, FUNCTIONS) == want


def test_resolve_command_defaults_to_the_platform_build() -> None:
    functions = [*FUNCTIONS, "build_amd64"]
    assert resolve_command(platform("amd64"), [], [], functions) == (SCRIPT_IN_CONTAINER, "build_amd64")


def test_function_and_raw_command_together_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'unittest_xsum'"):
        resolve_command(platform("amd64"), ["unittest_xsum"], ["make"], FUNCTIONS)


def test_unknown_function_suggests_close_names_and_lists_the_known_ones() -> None:
    with pytest.raises(UnknownFunctionError) as info:
        resolve_command(platform("amd64"), ["unitest_xsum"], [], FUNCTIONS)
    assert "unknown runtime function 'unitest_xsum'" in info.value.message
    assert "did you mean unittest_xsum" in info.value.message
    assert "known: " + ", ".join(FUNCTIONS) in info.value.hint
    assert "'--'" in info.value.hint


def test_unknown_function_without_a_close_name() -> None:
    with pytest.raises(UnknownFunctionError) as info:
        resolve_command(platform("amd64"), ["zzzz"], [], FUNCTIONS)
    assert "did you mean" not in info.value.message


@pytest.mark.parametrize("name", ["_log", "_dispatch"])
def test_helpers_cannot_be_run(name: str) -> None:
    with pytest.raises(UnknownFunctionError):
        resolve_command(platform("amd64"), [name], [], defined_functions(SCRIPT + f"{name}() {{\n}}\n"))


def test_missing_default_function_is_reported() -> None:
    with pytest.raises(UnknownFunctionError, match="'build_generic'"):
        resolve_command(platform("amd64"), [], [], ["unittest_xsum"])
