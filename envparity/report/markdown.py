"""Markdown for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

A verdict line, then one table per category folded in ``<details>`` (open when it holds a
finding at or above fail-on). Every value is HTML-escaped and pipes are entities, so a value can
neither break the table nor inject markup.
"""

from __future__ import annotations

import html
from typing import Any, List

from ..model import DriftReport, Finding
from .interface import (
    Renderer,
    at_or_above,
    benchmark_line,
    by_category,
    counts_line,
    describe,
    show,
)

_ICON = {"error": "error", "warning": "warning", "info": "info"}


def cell(value: Any) -> str:
    """Text safe inside a GitHub table cell: escaped, one line, no bare pipes."""
    text = html.escape(show(value), quote=False)
    return " ".join(text.replace("|", "&#124;").replace("`", "&#96;").split())


def code(value: Any) -> str:
    """``value`` as inline code inside a table cell."""
    return f"<code>{cell(show(value))}</code>"


def _summary(findings: List[Finding]) -> str:
    from ..wording import severity_counts

    counts = dict.fromkeys(("error", "warning", "info"), 0)
    for f in findings:
        counts[f.severity] += 1
    return severity_counts(counts)


class MarkdownRenderer(Renderer):
    """GitHub-flavoured Markdown; no external images or links."""

    name = "markdown"

    def render(self, report: DriftReport) -> str:
        if report.verdict == "none":
            head = "**envparity: no drift**"
        else:
            head = f"**envparity: drift {report.verdict}**"
        gate = "fails" if report.failed else "passes"
        lines: List[str] = [
            f"{head} — {counts_line(report)}; {gate} at fail-on `{report.fail_on}`",
            "",
            f"- baseline: {cell(describe(report.baseline))}",
            f"- candidate: {cell(describe(report.candidate))}",
        ]
        for category, findings in by_category(report.findings):
            is_open = any(at_or_above(f, report.fail_on) for f in findings)
            lines += [
                "",
                "<details open>" if is_open else "<details>",
                f"<summary><b>{cell(category)}</b>: {_summary(findings)}</summary>",
                "",
                "| severity | key | baseline | candidate | what to do |",
                "| --- | --- | --- | --- | --- |",
            ]
            for f in findings:
                lines.append(
                    f"| {_ICON[f.severity]} | {code(f.key)} | {code(f.baseline)} | "
                    f"{code(f.candidate)} | {cell(f.why)} |"
                )
            lines += ["", "</details>"]
        if report.benchmarks:
            lines += ["", "<details>", "<summary><b>benchmarks</b></summary>", ""]
            lines += [f"- {cell(benchmark_line(c))}" for c in report.benchmarks]
            lines += ["", "</details>"]
        return "\n".join(lines) + "\n"
