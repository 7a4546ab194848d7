"""scripts/provision.sh's pure choices, run with bash from the script's own text: which QEMU
binfmt_misc handler says the handlers are registered on a machine of each architecture."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "provision.sh"


def function(name: str) -> str:
    """The text of one shell function of the script, from its `name() {` line to its `}` line."""
    found = re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", SCRIPT.read_text(encoding="utf-8"), re.M | re.S)
    assert found, f"scripts/provision.sh has no function {name}"
    return found.group(0)


@pytest.mark.parametrize(
    ("machine", "handler"),
    [("x86_64", "qemu-aarch64"), ("aarch64", "qemu-x86_64"), ("ppc64le", "qemu-x86_64"),
     ("s390x", "qemu-x86_64")],
)  # fmt: skip
def test_the_probed_handler_is_foreign_to_the_machine(machine: str, handler: str) -> None:
    code = function("binfmt_probe") + f"binfmt_probe {machine}\n"
    result = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=False, timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (0, handler + "\n", "")


def test_registration_is_checked_through_the_probe() -> None:
    text = function("register_binfmt")
    assert 'binfmt_probe "$(uname -m)"' in text and "qemu-aarch64" not in text
