"""Shared by every figure group: the Figure a group returns, timing ./build.py runs, medians, a
generated C++ tree whose cost is compiling."""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")
BUILD_PY = str(REPO / "build.py")  # run as users run it: its own sh prologue picks the interpreter


@dataclasses.dataclass
class Figure:
    name: str
    what: str
    value: float
    unit: str
    target: str
    met: bool
    detail: dict[str, float]


def build_py(*args: str, cwd: Path | None = None, check: bool = True) -> float:
    """Seconds one ./build.py run takes (its output discarded)."""
    started = time.monotonic()
    proc = subprocess.run([BUILD_PY, *args], cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        raise SystemExit(
            f"bench: ./build.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return seconds


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def cold_total(plat: str, work: Path, source: Path | None = None) -> float:
    """Configure + compile (ccache off) + ctest in an empty build dir; the image already exists."""
    build = Path(tempfile.mkdtemp(prefix=f"bench-{plat}-", dir=work))
    on = ["--source", str(source)] if source else []
    try:
        return build_py("-p", plat, *on, "--build-dir", str(build), "-e", "CCACHE_DISABLE=1")
    finally:
        shutil.rmtree(build, ignore_errors=True)


def our_containers(owner_pid: int) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.ciharness.owner-pid={owner_pid}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


GENERATED_UNITS = 12  # each about 5 s of g++ -O2 here: a cold build of 30 s or more on 2 cores


def generate_tree(root: Path, units: int = GENERATED_UNITS) -> Path:
    """A C++ CMake project heavy enough to compile that caching shows (std::regex per unit)."""
    src = root / "generated"
    (src / "src").mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(units):
        names.append(f"src/unit{i}.cpp")
        (src / names[-1]).write_text(
            "#include <map>\n#include <regex>\n#include <sstream>\n#include <string>\n#include <vector>\n"
            f"std::string unit{i}(const std::string& s) {{\n"
            f'  std::regex r("([a-z]+)([0-9]{{{i % 3 + 1}}})");\n'
            "  std::map<std::string, std::vector<int>> m;\n  std::ostringstream o;\n"
            "  for (std::sregex_iterator it(s.begin(), s.end(), r), end; it != end; ++it) {\n"
            "    m[(*it)[1]].push_back(static_cast<int>((*it)[2].length()));\n    o << (*it)[0];\n  }\n"
            "  return o.str() + std::to_string(m.size());\n}\n"
        )
    decls = "".join(f"std::string unit{i}(const std::string&);\n" for i in range(units))
    calls = " + ".join(f"unit{i}(s)" for i in range(units))
    (src / "src" / "main.cpp").write_text(
        f'#include <string>\n{decls}int main() {{ std::string s = "ab1 cd22 ef333"; '
        f"return ({calls}).empty() ? 1 : 0; }}\n"
    )
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(generated CXX)\nenable_testing()\n"
        f"add_executable(gen src/main.cpp {' '.join(names)})\nadd_test(NAME gen.runs COMMAND gen)\n"
    )
    return src


def stamped_run(argv: list[str]) -> tuple[float, str, dict[str, float]]:
    """Seconds a run takes, its output (stdout and stderr merged), and when (seconds from its
    start) each of its step's `==> ` lines first appeared."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    stamps: dict[str, float] = {}
    for line in proc.stdout or ():
        lines.append(line)
        found = re.search(r"==> (\w+( \w+)?)", line)
        if found:
            stamps.setdefault(found.group(1), time.monotonic() - started)
    status = proc.wait()
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"bench: {shlex.join(argv)} failed ({status}):\n{''.join(lines)[-2000:]}")
    return seconds, "".join(lines), stamps
