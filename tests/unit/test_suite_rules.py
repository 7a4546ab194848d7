"""The suite's own rules (tests/rules.py): under CI a skip fails unless it lacks a GPU, and tests
marked `last` run last whatever their file is called."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.readme import REPO
from tests.rules import early_first_last_at_the_end, under_ci

SKIPPING = """
import pytest
from tests.rules import skip_no_gpu

@pytest.fixture
def needs_root():
    pytest.skip("NOT ROOT: cannot do this here")

def test_plain_skip():
    pytest.skip("NO BINFMT HANDLER: cannot test its absence")

def test_skip_in_a_fixture(needs_root):
    pass

@pytest.mark.skipif(True, reason="NO PODMAN here")
def test_skipif():
    pass

def test_no_gpu():
    skip_no_gpu("this machine has none")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_passes():
    pass
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_skipping=SKIPPING)
    return pytester.runpytest("-p", "tests.rules", "-rA")


def test_under_ci_every_skip_but_no_gpu_fails_and_says_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "true")
    result.assert_outcomes(passed=1, failed=1, errors=2, skipped=1, xfailed=1)  # errors: skipped in setup
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    for reason in ("NO BINFMT HANDLER", "NOT ROOT", "NO PODMAN"):  # loud: the reason is in the failure
        assert any("SKIPPED UNDER CI" in line and reason in line for line in text.splitlines()), text
    assert "NO GPU: this machine has none" in text


def test_outside_ci_skips_stay_skips(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for ci in (None, "", "false"):
        result = run(pytester, monkeypatch, ci)
        result.assert_outcomes(passed=1, skipped=4, xfailed=1)
        assert result.ret == pytest.ExitCode.OK


def test_a_module_skipped_while_collected_fails_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(
        test_whole="import pytest\npytest.skip('NO dockerd', allow_module_level=True)\ndef test_x(): pass\n"
    )
    result = pytester.runpytest("-p", "tests.rules")
    assert result.ret != pytest.ExitCode.OK
    assert "SKIPPED UNDER CI" in result.stdout.str() and "NO dockerd" in result.stdout.str()


def test_ci_is_read_as_ci_systems_set_it() -> None:
    assert under_ci({"CI": "true"}) and under_ci({"CI": "1"}) and under_ci({"CI": "True"})
    assert not under_ci({}) and not under_ci({"CI": ""}) and not under_ci({"CI": "false"})


@dataclass
class Item:
    name: str
    markers: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        if name == "early" and "first" in self.markers:
            return pytest.mark.early(first=True).mark
        return getattr(pytest.mark, name).mark if name in self.markers else None


def test_early_move_to_the_front_and_last_to_the_end_each_in_its_order() -> None:
    items = [Item("a"), Item("z1", {"last"}), Item("e1", {"early"}), Item("b"), Item("z2", {"last"})]
    items += [Item("e2", {"early"}), Item("c"), Item("f", {"early", "first"})]
    want = ["f", "e1", "e2", "a", "b", "c", "z1", "z2"]  # early(first=True) before every other
    assert [i.name for i in early_first_last_at_the_end(items)] == want


def test_the_engine_restart_is_collected_last_by_its_marker_not_its_name() -> None:
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration", "--collect-only", "-q", "-p",
         "no:cacheprovider"],
        cwd=REPO, env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()  # fmt: skip
    ids = [line for line in collected if "::" in line]
    assert ids[-1] == "tests/integration/test_engine_restart.py::test_engine_restart_mid_run"
    files = [i.split("::")[0] for i in ids]
    assert sorted(set(files)).index("tests/integration/test_engine_restart.py") < len(set(files)) - 1


GROUPED = """
import pytest

GROUP = pytest.mark.xdist_group("shared")

@GROUP
@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    pass

@pytest.mark.parametrize("n", range(4))
def test_free(n):
    pass
"""


def test_tests_of_one_xdist_group_share_a_worker(pytester: pytest.Pytester) -> None:
    """What the engine tier's sharing rests on (one worker builds a group's fixture once): pytest
    9.2 with pytest-xdist 3.8 silently handed a group's tests to every worker (xdist #1386),
    each building the fixture anew."""
    pytester.makepyfile(test_grouped=GROUPED)
    result = pytester.runpytest_subprocess(
        "-n", "3", "--dist", "loadgroup", "--no-loadscope-reorder", "-v", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=8)
    workers = [line.split()[0] for line in result.outlines if "PASSED" in line and "::test_grouped[" in line]
    assert len(workers) == 4 and len(set(workers)) == 1, result.outlines
