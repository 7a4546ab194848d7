"""Decide how a run's report reads in a browser: one self-contained HTML page (inline CSS, the
timeline as inline SVG, no script, nothing fetched; a Content-Security-Policy forbids both).
Pure; everything taken from the run (names, messages, output) is escaped."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ci.output import timeline
from ci.output.timeline import escape

if TYPE_CHECKING:  # report imports this module to render
    from ci.output.report import Entry, Report

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1000px; color: #1d2430;
  padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.2em; margin: 1.4em 0 .4em; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
.headline { font-size: 1.15em; font-weight: 600; margin: .2em 0; }
.meta, .legend, footer { color: #5a6472; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #e2e6ec; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
.ok { color: #1f7a4d; } .failed { color: #b42318; }
.badge { display: inline-block; padding: 0 .5em; border-radius: .6em; font-size: .85em; color: #fff; }
.badge.ok { background: #2e9d68; } .badge.failed { background: #c8372d; }
article { border: 1px solid #e2e6ec; border-left: 5px solid #2e9d68; border-radius: 4px;
  padding: .2em 1em .8em; margin: 1em 0; }
article.fail { border-left-color: #c8372d; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .5em 0; }
dt { color: #5a6472; } dd { margin: 0; word-break: break-all; }
.hint { background: #fff7e0; border-left: 3px solid #e0a100; padding: .3em .6em; margin: .4em 0; }
pre { background: #f6f8fa; padding: .5em .7em; overflow-x: auto; white-space: pre-wrap;
  word-break: break-all; font: 12px/1.4 ui-monospace, monospace; margin: .3em 0; }
.test-name { font-family: ui-monospace, monospace; font-weight: 600; }
.legend span { display: inline-block; margin-right: 1.2em; }
.legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
svg.timeline text { font: 12px system-ui, sans-serif; fill: #1d2430; }
svg.timeline .tick { stroke: #e2e6ec; } svg.timeline .tick-label { fill: #5a6472; font-size: 11px; }
svg.timeline rect.unfinished { stroke: #c8372d; stroke-dasharray: 3 2; }
.timeline-box { overflow-x: auto; }
"""


def h(text: object) -> str:
    return escape(str(text))


def tests_text(entry: Entry) -> str:
    t = entry.tests
    return f"{t.passed} / {t.failed} / {t.skipped}" if t else "-"


def render(report: Report) -> str:
    ok = report.status == 0
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(report.started_wall))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(report.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<header><h1>{h(report.title)}</h1><p class="headline {"ok" if ok else "failed"}" '
        f'id="headline">{h(report.headline)}</p>',
        f'<p class="meta">started {h(started)}, took {report.seconds:.1f} s, exit status '
        f"{report.status}; {report.cores} core(s), {report.parallel} platform(s) at once</p></header>",
        summary_table(report.entries),
        merged_coverage(report),
        timeline_section(report),
        '<section id="platforms">',
        *[platform_section(e) for e in report.entries],
        "</section>",
        "<footer><p>Written by build.py when the run ended. Times are seconds since the run "
        "started.</p></footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def summary_table(entries: Sequence[Entry]) -> str:
    covered = any(e.coverage for e in entries)  # a coverage column only in a run that measured it
    rows = [
        '<section id="summary"><h2>Platforms</h2><table class="summary"><thead><tr>'
        "<th>platform</th><th>status</th><th>time</th><th>way</th><th>build system</th>"
        "<th>tests passed / failed / skipped</th><th>ccache hit rate</th>"
        + ("<th>coverage</th>" if covered else "")
        + "</tr></thead><tbody>"
    ]
    for e in entries:
        css = "ok" if e.passed else "failed"
        rows.append(
            f'<tr data-platform="{h(e.platform)}"><td><a href="#platform-{h(e.platform)}">{h(e.platform)}</a>'
            f'</td><td class="status {css}">{h(e.status)}</td><td>{e.seconds:.1f} s</td>'
            f"<td>{h(e.way or '-')}</td><td>{h(e.build_system or '-')}</td>"
            f"<td>{h(tests_text(e))}</td><td>{h(e.cache)}</td>"
            + (f"<td>{coverage_link(e.coverage_short, e.coverage_href)}</td>" if covered else "")
            + "</tr>"
        )
    rows.append("</tbody></table></section>")
    return "\n".join(rows)


def coverage_link(figures: str, href: str) -> str:
    """Coverage figures linking to gcovr's page; '-' for none."""
    if not figures:
        return "-"
    return f'<a class="coverage" href="{h(urllib.parse.quote(href))}">{h(figures)}</a>'


def merged_coverage(report: Report) -> str:
    if not report.merged_coverage:
        return ""
    return (
        '<p class="meta" id="merged-coverage">Coverage of every job together (merged): '
        f"{coverage_link(report.merged_coverage, report.merged_coverage_href)}</p>"
    )


def timeline_section(report: Report) -> str:
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{h(label)}</span>'
        for label, colour in timeline.legend_items(report.bars)
    )
    return (
        '<section id="timeline"><h2>Timeline</h2>'
        f'<p class="legend">{legend}</p><div class="timeline-box">'
        f"{timeline.svg(report.bars, report.lanes, report.seconds)}</div>"
        '<p class="meta">Each row is a platform, each bar a phase; hover over a bar for its '
        "times. A dashed bar was still going when the run ended.</p></section>"
    )


def platform_section(e: Entry) -> str:
    css = "ok" if e.passed else "failed"
    facts = [
        ("status", f'<span class="badge {css}">{h(e.status)}</span>'),
        ("time", f"{e.seconds:.1f} s"),
        ("way", h(e.way or "-")),
        ("build system", h(e.build_system or "-")),
        ("tests passed / failed / skipped", h(tests_text(e))),
        ("ccache hit rate", h(e.cache)),
        ("image", f"<code>{h(e.image or '-')}</code>"),
    ]
    if e.coverage:
        facts.append(("coverage", coverage_link(e.coverage, e.coverage_href)))
    if e.log:
        href = urllib.parse.quote(e.log_href)
        facts.append(("log", f'<a class="log" href="{h(href)}">{h(e.log)}</a>'))
    parts = [
        f'<article class="platform {"pass" if e.passed else "fail"}" id="platform-{h(e.platform)}" '
        f'data-platform="{h(e.platform)}" data-status="{css}">'
        f'<h2>{h(e.platform)} <span class="status {css}">{h(e.status)}</span></h2>',
        "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
        *[f'<p class="hint">hint: {h(hint)}</p>' for hint in e.hints],
        *[f'<p class="note">{h(note)}</p>' for note in e.notes],
    ]
    if e.failures:
        parts.append(f'<h3>Failed tests ({len(e.failures)})</h3><ul class="failed-tests">')
        for f in e.failures:
            message = f'<pre class="test-message">{h(f.message)}</pre>' if f.message else ""
            output = f'<pre class="test-output">{h(f.output)}</pre>' if f.output else ""
            parts.append(f'<li><span class="test-name">{h(f.name)}</span>{message}{output}</li>')
        parts.append("</ul>")
    if e.slowest:
        parts.append('<h3>Slowest tests</h3><ol class="slowest">')
        parts += [
            f'<li><span class="slow-test">{h(name)}</span> {seconds:.2f} s</li>'
            for name, seconds in e.slowest
        ]
        parts.append("</ol>")
    if e.tail:
        opened = "" if e.passed else " open"
        parts.append(
            f"<details{opened}><summary>last {len(e.tail)} lines of its output</summary>"
            f'<pre class="tail">{h(chr(10).join(e.tail))}</pre></details>'
        )
    parts.append("</article>")
    return "\n".join(parts)
