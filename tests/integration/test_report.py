"""The run's report in a real browser: a real run of three platforms (amd64 native, armv7 and s390x
cross-compiled, tested under qemu-user) of a small C project whose byte-order tests fail on s390x
only, one of them named with `<script>`; Debian's headless Chromium loads the HTML with no
network and the rendered page shows each platform's status, the failed tests' names and
messages, and a timeline lane with bars per platform; the GitHub job summary holds valid tables."""

from __future__ import annotations

import html.parser
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.integration.helpers import REPO, Result, run_build_py

PLATFORMS = ("amd64", "armv7", "s390x")
EVIL = "order.<script>alert</script>"
CMAKELISTS = f"""cmake_minimum_required(VERSION 3.16)
project(order C)
enable_testing()
add_executable(order order.c)
add_test(NAME order.little COMMAND order little)
add_test(NAME "{EVIL}" COMMAND order little)
add_test(NAME order.any COMMAND order any)
"""
ORDER_C = r"""#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    unsigned int one = 1;
    int little = *(unsigned char *)&one == 1;
    if (argc > 1 && strcmp(argv[1], "little") == 0 && !little) {
        printf("expected little-endian, got big-endian\n");
        return 1;
    }
    printf("byte order: %s\n", little ? "little" : "big");
    return 0;
}
"""


class Dom(html.parser.HTMLParser):
    """The rendered page: its elements (tag, attributes, the text inside, the parent's index) in
    document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str], int]] = []
        self.open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.open[-1] if self.open else -1
        self.elements.append((tag, {k: v or "" for k, v in attrs}, [], parent))
        if tag not in ("meta", "br", "hr", "img", "input", "link"):
            self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.elements[self.open.pop()][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self.open:
            self.elements[index][2].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[int, dict[str, str], str]]:
        """(index, attributes, text) of the elements with that tag and those attributes."""
        return [
            (i, a, "".join(inner))
            for i, (t, a, inner, _) in enumerate(self.elements)
            if t == tag and all(a.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def children(self, index: int, tag: str) -> list[dict[str, str]]:
        return [a for t, a, _, parent in self.elements if parent == index and t == tag]


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """One run of the three platforms (their images reused), its report and job summary."""
    work = tmp_path_factory.mktemp("report")
    (work / "src").mkdir()
    (work / "src" / "CMakeLists.txt").write_text(CMAKELISTS, encoding="utf-8")
    (work / "src" / "order.c").write_text(ORDER_C, encoding="utf-8")
    result = run_build_py(
        "-p",
        ",".join(PLATFORMS),
        "--source",
        str(work / "src"),
        "--ccache-dir",
        str(work / "ccache"),
        "--progress",
        "plain",
        "--report",
        "out/report.html",
        cwd=work,
        env={"GITHUB_STEP_SUMMARY": str(work / "summary.md")},
        timeout=1800,
    )
    return work, result


def chromium(*args: str) -> str:
    """Headless Chromium with no network: its own empty network namespace (as root), and a proxy
    to nowhere besides."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is missing: scripts/provision.sh installs Debian's chromium")
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", *args]
    if os.geteuid() == 0:
        argv = ["unshare", "--net", "--", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_a_real_run_renders_in_chromium_with_each_platform_its_failures_and_its_timeline(
    three: tuple[Path, Result], tmp_path: Path
) -> None:
    work, result = three
    assert result.returncode == 8, result.stderr[-3000:]  # ctest's status on s390x
    page = work / "out" / "report.html"
    dom = Dom()
    dom.feed(chromium("--dump-dom", page.as_uri()))
    articles = {a["data-platform"]: (a["data-status"], text) for _, a, text in dom.find("article")}
    assert {name: status for name, (status, _) in articles.items()} == {
        "amd64": "ok",
        "armv7": "ok",
        "s390x": "failed",
    }
    assert "failed (exit 8)" in articles["s390x"][1] and "order.little" in articles["s390x"][1]
    names = [text for _, _, text in dom.find("span", class_="test-name")]
    assert sorted(names) == sorted(["order.little", EVIL])  # the <script> name shows as text
    assert not [t for t, *_ in dom.elements if t in ("script", "alert")]
    slowest = [text for _, _, text in dom.find("span", class_="slow-test")]  # each job's, from JUnit times
    assert "order.little" in slowest and len(slowest) <= 3 * 5, slowest
    outputs = " ".join(text for _, _, text in dom.find("pre", class_="test-output"))
    assert outputs.count("expected little-endian, got big-endian") == 2
    assert [text for _, _, text in dom.find("pre", class_="test-message")] == ["Failed", "Failed"]
    lanes = dom.find("g", class_="lane")
    assert [a["data-platform"] for _, a, _ in lanes] == list(PLATFORMS)
    for index, attrs, _ in lanes:  # one lane per platform, its phases as bars
        phases = [bar["data-phase"] for bar in dom.children(index, "rect")]
        assert "building" in phases and "testing" in phases, (attrs, phases)
    links = [a["href"] for _, a, _ in dom.find("a", class_="log")]
    assert sorted(links) == sorted(f"../build.{p}/build.log" for p in PLATFORMS)
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1100,1600", page.as_uri())
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_the_job_summary_holds_a_valid_table_per_platform_failures_first(three: tuple[Path, Result]) -> None:
    work, _ = three
    md = (work / "summary.md").read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    assert sum(t.type == "table_open" for t in tokens) == len(PLATFORMS)
    rows: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append(0)
        elif token.type in ("th_open", "td_open"):
            rows[-1] += 1
    assert rows == [7] * (2 * len(PLATFORMS))  # a header and one row per platform, seven cells each
    assert "| cross \\+ qemu\\-user |" in md and "| native |" in md  # the way each platform ran
    assert md.count("Slowest tests: ") == len(PLATFORMS)  # each job's, from its JUnit times
    headings = [
        tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h3"
    ]
    assert headings[0].endswith("s390x") and sorted(h.split()[-1] for h in headings) == sorted(PLATFORMS)
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script>" not in rendered and "order.&lt;script&gt;alert&lt;/script&gt;" in rendered


def report_text(path: Path) -> str:
    dom = Dom()
    dom.feed(path.read_text(encoding="utf-8"))
    return " ".join("".join(inner) for t, _, inner, _ in dom.elements if t == "body")


@pytest.mark.usefixtures("no_leftovers")
def test_a_run_a_signal_ends_still_leaves_its_report(tmp_path: Path) -> None:
    """SIGTERM while both platforms are in their tests: the report says so, their bars still going."""
    step = "echo '==> phase: testing'; echo started; sleep 60"
    argv = [str(REPO / "build.py"), "-p", "amd64,armv7", "--progress", "plain", "--", "sh", "-c", step]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:  # both containers run their step
        seen += line.rstrip().endswith("] started")
        if seen == 2:
            break
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    text = report_text(tmp_path / "build-report.html")
    assert "interrupted by SIGTERM" in text and text.count("did not finish (ended during tests)") >= 2
    assert 'class="bar unfinished" data-phase="testing"' in (tmp_path / "build-report.html").read_text()


def test_fail_fast_leaves_a_report_naming_the_platform_it_stopped(tmp_path: Path) -> None:
    result = run_build_py("-p", "amd64,armv7", "-j", "1", "--fail-fast", "--", "false", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    text = report_text(tmp_path / "build-report.html")
    assert "stopped by --fail-fast" in text and "not run (--fail-fast)" in text
