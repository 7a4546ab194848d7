"""The README's flag and exit-code tables, and its test command, match the code."""

from __future__ import annotations

import re
from pathlib import Path

from ci.errors import ExitCode
from ci.flags import build_parser
from tests.readme import README, REPO, block


def test_flag_table_matches_the_parser() -> None:
    documented = set(re.findall(r"^\| `(-[^`]+)` \|", README, re.MULTILINE))
    documented_flags = {flag for cell in documented for flag in re.findall(r"--?[a-zA-Z][a-z-]*", cell)}
    parser_flags = {
        flag
        for action in build_parser()._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }
    assert documented_flags == parser_flags


def test_exit_code_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README, re.MULTILINE))
    assert {int(code) for code in rows} == {int(c) for c in ExitCode}


def test_ci_runs_the_readme_test_command() -> None:
    quick = block("quickstart")
    assert len(quick) == 2
    ci_run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f"exec {quick[1]}" in ci_run


def test_engines_file_example_is_valid(tmp_path: Path) -> None:
    from ci.engines import Endpoint, Tls, load_access, load_file

    example = README.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "engines.toml"
    path.write_text(example)
    assert load_file(path) == {
        "arm64": "ssh://ci@arm-builder",
        "armv7": "tcp://armv7-builder:2376",
        "s390x": "context:z-builder",
        "*": "unix:///var/run/docker.sock",
    }
    certs = tmp_path / "certs"
    assert load_access(path) == {
        "tcp://armv7-builder:2376": Endpoint(
            "tcp://armv7-builder:2376",
            Tls(ca=str(certs / "ca.pem"), cert=str(certs / "cert.pem"), key=str(certs / "key.pem")),
        ),
        "ssh://ci@arm-builder": Endpoint("ssh://ci@arm-builder", ssh_config=str(tmp_path / "ssh" / "config")),
    }
