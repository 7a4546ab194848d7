"""The README's flag and exit-code tables (against the settings table and ci.errors.ExitCode),
and its test command, match the code."""

from __future__ import annotations

import re
from pathlib import Path

from ci.errors import ExitCode
from ci.settings import table as settings_table
from ci.settings.flags import build_parser
from tests.readme import README, REPO, Table, block, tables


def _table(header: tuple[str, ...]) -> Table:
    (found,) = [t for t in tables() if t.header == header]
    return found


def test_flag_table_matches_the_parser() -> None:
    documented = [row[0] for row in _table(("flag", "meaning")).rows]
    documented_flags = {flag for cell in documented for flag in re.findall(r"--?[a-zA-Z][a-z-]*", cell)}
    parser_flags = {
        flag
        for action in build_parser()._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }
    assert documented_flags == parser_flags


def flag_rows() -> dict[str, str]:
    """Each flag of the README's flag table -> its row's meaning."""
    rows = _table(("flag", "meaning")).rows
    return {flag: meaning for cell, meaning in rows for flag in re.findall(r"--?[a-zA-Z][a-z-]*", cell)}


def test_flag_table_documents_every_setting_with_its_default() -> None:
    """Every flag of the settings table has a row; where the row states a default, it is the
    table's."""
    documented = flag_rows()
    for setting in settings_table.settings():
        for flag in setting.flags:
            assert flag in documented, f"{setting.name}: {flag} is not in the README's flag table"
        meaning = documented[setting.flags[-1]] if setting.flags else ""
        if "default" in meaning and setting.default not in (None, ""):
            assert str(setting.default) in meaning, f"{setting.name}: README says {meaning!r}"


def test_exit_code_table_matches_the_code() -> None:
    rows = _table(("code", "meaning")).rows
    codes = [code for code, _ in rows if code.isdigit()]
    assert sorted(int(code) for code in codes) == sorted(int(c) for c in ExitCode)
    for code, meaning in rows:
        if code.isdigit():
            said = {int(c): c for c in ExitCode}[int(code)].meaning.lower()
            assert said in meaning.replace("`", "").lower(), f"README {code}: {meaning!r} lacks {said!r}"


def test_every_table_row_has_its_header_shape() -> None:
    found = tables()
    assert len(found) >= 6
    for table in found:
        for row in table.rows:
            assert len(row) == len(table.header), f"README line {table.line}: {row} under {table.header}"


def test_no_table_holds_rows_of_another() -> None:
    """A row pasted from one table into another (the lifecycle table once held nine rows of the
    flag table) has the right shape and so must be caught by its content."""
    seen: dict[tuple[str, ...], int] = {}
    for table in tables():
        for row in table.rows:
            assert row not in seen, f"README line {table.line}: {row} repeats the table at line {seen[row]}"
            seen[row] = table.line
    flags = {row[0] for row in _table(("flag", "meaning")).rows}
    for header in (("what ends the run", "what happens"), ("code", "meaning"), ("path", "what")):
        pasted = [row[0] for row in _table(header).rows if row[0] in flags]
        assert pasted in ([], ["`--timeout SECONDS`"]), f"flag rows in the {header[0]!r} table: {pasted}"


def test_the_table_reader_sees_a_mixed_table() -> None:
    text = "| a | b |\n|---|---|\n| `x` | 1 |\n\n| c | d |\n|---|---|\n| `x` | 1 |\n| e \\| f | g |\n"
    first, second = tables(text)
    assert first.rows == (("`x`", "1"),)
    assert second.rows == (("`x`", "1"), ("e \\| f", "g"))


def test_ci_runs_the_readme_test_command() -> None:
    quick = block("quickstart")
    assert len(quick) == 2
    ci_run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f"exec {quick[1]}" in ci_run


def test_engines_file_example_is_valid(tmp_path: Path) -> None:
    from ci.planning.endpoints import Endpoint, Tls, load_access, load_file

    (example,) = [b.split("```", 1)[0] for b in README.split("```toml\n")[1:] if "# engines.toml" in b]
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


def _layout_block() -> str:
    text = README.split("\nLayout. ", 1)[1]
    return text.split("```\n", 1)[1].split("\n```", 1)[0]


def test_layout_tree_names_every_subpackage_and_module_that_exists() -> None:
    """The Layout block is a tree of what is there: every path it names exists, and every
    subpackage and module of ci/ is named in its subpackage's entry."""
    entries: dict[str, str] = {}
    current = ""
    for line in _layout_block().splitlines():
        if line and not line.startswith(" "):
            current = line.split()[0]
            entries[current] = line[len(current) :]
        else:
            entries[current] += " " + line.strip()
    for path in entries:
        assert (REPO / path.rstrip("/")).exists(), path
    for package in sorted(p for p in (REPO / "ci").iterdir() if (p / "__init__.py").is_file()):
        key = f"ci/{package.name}/"
        assert key in entries, f"{key} missing from the README's layout"
        for module in sorted(package.glob("*.py")):
            if module.name != "__init__.py":
                assert module.name in entries[key], f"{module.relative_to(REPO)} missing from the layout"
    top = sorted(p.name for p in (REPO / "ci").glob("*.py") if p.name != "__init__.py")
    assert all(f"ci/{name}" in entries for name in top), top
