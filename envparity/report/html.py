"""A self-contained HTML page: inline CSS, no script, no network; every value escaped.

:data:`CSS` and :data:`CSP` are shared with the fleet view (``envparity.report.fleet``). Always
complete (never cut to a size): it is the artifact a capped Markdown summary points to.
"""

from __future__ import annotations

from typing import Dict, List

from ..model import DriftReport
from .escape import html_text as _e
from .interface import (
    Renderer,
    benchmark_line,
    by_category,
    context_lines,
    describe,
    finding_values,
    incomplete,
    sides,
    verdict_line,
)
from .style import CSP, CSS
from .svg import render_chart


class HtmlRenderer(Renderer):
    """One page, readable offline and safe to open whatever the snapshots contain."""

    name = "html"

    def render(self, report: DriftReport) -> str:
        gate = "fail" if report.failed else "pass"
        out: List[str] = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            CSP,
            "<title>envparity drift report</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<h1>envparity drift report</h1>",
            *summary_section(report, gate),
            "<ul>",
            f"<li>baseline: {_e(describe(report.baseline))}</li>",
            f"<li>candidate: {_e(describe(report.candidate))}</li>",
        ]
        out += [f"<li>{_e(line)}</li>" for line in context_lines(report)]
        out.append("</ul>")
        gaps = incomplete(report)
        if gaps:
            out.append(
                '<p class="warning"><b>incomplete comparison</b>: a probe failed ('
                + ", ".join(_e(f.key) for f in gaps)
                + ")</p>"
            )
        anchors = finding_ids(report)
        for category, findings in by_category(report.findings):
            out += [
                f"<h2>{_e(category)} ({len(findings)})</h2>",
                "<table>",
                "<tr><th>severity</th><th>key</th><th>baseline</th><th>candidate</th>"
                "<th>change</th><th>what to do</th></tr>",
            ]
            for f in findings:
                change = "incomplete comparison" if f.change == "incomplete" else f.change
                a, b = sides(f)
                related = (
                    f"<br>related: <code>{_e(', '.join(f.related))}</code>" if f.related else ""
                )
                if f.severity_reason:
                    related += f"<br>{_e(f.severity)} because: {_e(f.severity_reason)}"
                out.append(
                    f'<tr class="{_e(f.severity)}" id="{anchors[id(f)]}"><td>{_e(f.severity)}</td>'
                    f'<td class="name"><code>{_e(f.key)}</code></td><td><code>{_e(a)}</code></td>'
                    f"<td><code>{_e(b)}</code></td><td>{_e(change)}</td>"
                    f"<td>{_e(f.why)}{related}</td></tr>"
                )
            out.append("</table>")
        if report.benchmarks:
            out += ["<h2>benchmarks</h2>", render_chart(report.benchmarks), "<ul>"]
            out += [f"<li>{_e(benchmark_line(c))}</li>" for c in report.benchmarks]
            out.append("</ul>")
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"


#: Findings the summary at the top of the page names, worst first, each a link to its row.
TOP_FINDINGS = 5


def finding_ids(report: DriftReport) -> Dict[int, str]:
    """Each finding's row id (``finding-1``, ... in the report's order, worst first)."""
    return {id(f): f"finding-{i}" for i, f in enumerate(report.findings, 1)}


def summary_section(report: DriftReport, gate: str) -> List[str]:
    """The summary before any table: the verdict, the counts, the top findings linked to their
    rows."""
    ids = finding_ids(report)
    from ..wording import count

    n = report.counts
    counts = "".join(
        f'<span class="{s}">{text}</span>'
        for s, text in (
            ("error", count(n.get("error", 0), "error")),
            ("warning", count(n.get("warning", 0), "warning")),
            ("info", f"{n.get('info', 0)} info"),
        )
    )
    out = [
        '<section class="summary" id="summary">',
        f'<p class="verdict {gate}">{_e(verdict_line(report))}</p>',
        f'<p class="counts">{counts}</p>',
    ]
    top = report.findings[:TOP_FINDINGS]
    if top:
        more = len(report.findings) - len(top)
        out.append(f"<p>top finding{'s' if len(top) > 1 else ''}:</p>")
        out.append("<ol>")
        out += [
            f'<li class="{_e(f.severity)}"><a href="#{ids[id(f)]}">{_e(f.severity)} '
            f'{_e(f.category)}:<span class="name">{_e(f.key)}</span></a> '
            f"{_e(finding_values(f))}</li>"
            for f in top
        ]
        out.append("</ol>")
        if more:
            out.append(f"<p>and {more} more below.</p>")
    out.append("</section>")
    return out
