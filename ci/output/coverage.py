"""Read what a --coverage run's gcovr left in its build dir's coverage/ (runtime_functions.sh's
_coverage writes it): the line, branch and function figures of gcovr's JSON summary, and where
its reports are."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

DIR = "coverage"  # in the build dir, and build.coverage (the merged report) beside the build dirs
SUMMARY = "summary.json"  # gcovr --json-summary
TRACEFILE = "coverage.json"  # gcovr --json: what a merge reads (gcovr --json-add-tracefile)
HTML = "index.html"  # gcovr --html-details
COBERTURA = "cobertura.xml"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Coverage:
    lines_covered: int
    lines_total: int
    branches_covered: int = 0
    branches_total: int = 0
    functions_covered: int = 0
    functions_total: int = 0
    directory: Path  # the coverage/ dir holding the reports

    @property
    def line_rate(self) -> float | None:
        return self.lines_covered / self.lines_total if self.lines_total else None

    @property
    def branch_rate(self) -> float | None:
        return self.branches_covered / self.branches_total if self.branches_total else None

    @property
    def html(self) -> Path:
        return self.directory / HTML

    @property
    def tracefile(self) -> Path:
        return self.directory / TRACEFILE

    def short(self) -> str:
        """For a table cell: 93.6% lines, 79.5% branches."""
        parts = [f"{percent(self.line_rate)} lines"]
        if self.branch_rate is not None:
            parts.append(f"{percent(self.branch_rate)} branches")
        return ", ".join(parts)

    def describe(self) -> str:
        """For the run's line: lines 93.6% (367/392), branches 79.5% (124/156)."""
        parts = [f"lines {percent(self.line_rate)} ({self.lines_covered}/{self.lines_total})"]
        if self.branches_total:
            branches = f"({self.branches_covered}/{self.branches_total})"
            parts.append(f"branches {percent(self.branch_rate)} {branches}")
        return ", ".join(parts)


def percent(rate: float | None) -> str:
    """A rate with one decimal, as gcovr rounds it, except that 100.0% means every line (99.96%
    is 99.9%); '-' for none."""
    if rate is None:
        return "-"
    shown = round(rate * 100, 1)
    return f"{min(shown, 99.9) if rate < 1 else shown:.1f}%"


def merged_dir(build_dir: Path | None, cwd: Path) -> Path:
    """Where a several-job run merges its jobs' coverage: build.coverage beside the build dirs
    (DIR.coverage for --build-dir DIR)."""
    if build_dir is None:
        return cwd / f"build.{DIR}"
    base = build_dir if build_dir.is_absolute() else cwd / build_dir
    return base.parent / f"{base.name}.{DIR}"


def read(build_dir: Path, fresh: float) -> Coverage | None:
    """The figures of the coverage/ this run left (written at or after fresh), or None: no
    coverage asked, none made (the tests never ran), or a summary that does not parse."""
    return read_dir(build_dir / DIR, fresh)


def read_dir(directory: Path, fresh: float = 0.0) -> Coverage | None:
    summary = directory / SUMMARY
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        if summary.stat().st_mtime < fresh:
            return None
        data = json.loads(summary.read_text(encoding="utf-8"))
        return Coverage(
            lines_covered=int(data["line_covered"]),
            lines_total=int(data["line_total"]),
            branches_covered=int(data.get("branch_covered", 0)),
            branches_total=int(data.get("branch_total", 0)),
            functions_covered=int(data.get("function_covered", 0)),
            functions_total=int(data.get("function_total", 0)),
            directory=directory,
        )
    return None
