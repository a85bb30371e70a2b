"""A self-contained HTML page: inline CSS, no script, no network; every value escaped."""

from __future__ import annotations

import html
from typing import Any, List

from ..model import DriftReport
from .interface import Renderer, benchmark_line, by_category, describe, show, verdict_line
from .svg import render_chart

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.3em}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,monospace;word-break:break-all}
.error{background:#ffebe9}.warning{background:#fff8c5}.info{background:#f6f8fa}
.verdict{font-weight:600}.fail{color:#cf222e}.pass{color:#1a7f37}
""".strip()


def _e(value: Any) -> str:
    return html.escape(show(value), quote=True)


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
            # No network, no script: a CSP makes that hold even if a value slipped through.
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            "<title>envparity drift report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<h1>envparity drift report</h1>",
            f'<p class="verdict {gate}">{_e(verdict_line(report))}</p>',
            "<ul>",
            f"<li>baseline: {_e(describe(report.baseline))}</li>",
            f"<li>candidate: {_e(describe(report.candidate))}</li>",
            "</ul>",
        ]
        for category, findings in by_category(report.findings):
            out += [
                f"<h2>{_e(category)} ({len(findings)})</h2>",
                "<table>",
                "<tr><th>severity</th><th>key</th><th>baseline</th><th>candidate</th>"
                "<th>change</th><th>what to do</th></tr>",
            ]
            for f in findings:
                out.append(
                    f'<tr class="{_e(f.severity)}"><td>{_e(f.severity)}</td>'
                    f"<td><code>{_e(f.key)}</code></td><td><code>{_e(f.baseline)}</code></td>"
                    f"<td><code>{_e(f.candidate)}</code></td><td>{_e(f.change)}</td>"
                    f"<td>{_e(f.why)}</td></tr>"
                )
            out.append("</table>")
        if report.benchmarks:
            out += ["<h2>benchmarks</h2>", render_chart(report.benchmarks), "<ul>"]
            out += [f"<li>{_e(benchmark_line(c))}</li>" for c in report.benchmarks]
            out.append("</ul>")
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"
