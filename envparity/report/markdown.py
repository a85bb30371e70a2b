"""Markdown for ``$GITHUB_STEP_SUMMARY`` and pull-request comments, sized to fit where it goes.

A verdict line, then one table per severity and category folded in ``<details>`` (open at or
above fail-on), errors first. The document never exceeds ``max_bytes`` (default 1 MiB, GitHub's
step-summary limit; 65,000 suits a PR comment): findings are listed in severity order as long as
they fit, then one line counts what was left out and points to the JSON/HTML artifact, which are
always complete. Every value goes through :func:`~envparity.report.escape.markdown`: no markup,
no link, no image, no table break can come from data.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from ..model import DriftReport, Finding
from ..severity import SEVERITIES, reaches
from ..wording import count, severity_counts
from .escape import markdown as cell
from .interface import (
    Renderer,
    benchmark_line,
    conditions_lines,
    context_lines,
    counts_line,
    describe,
    incomplete,
    sides,
)

#: GitHub's limit for one step summary ($GITHUB_STEP_SUMMARY).
DEFAULT_MAX_BYTES = 1024 * 1024
#: The smallest budget that still holds the head, the tail and a few findings.
MIN_MAX_BYTES = 4096
_TAIL_RESERVE = 600  # the "left out" line and the closing of an open table


def code(value: object) -> str:
    """``value`` as inline code inside a table cell."""
    return f"<code>{cell(value)}</code>"


def _row(f: Finding) -> str:
    why = f.why
    if f.related and not f.members:
        why += f" (related: {', '.join(f.related)})"
    if f.severity_reason:
        why += f" — {f.severity} because: {f.severity_reason}"
    a, b = sides(f)
    return f"| {f.severity} | {code(f.key)} | {code(a)} | {code(b)} | {cell(why)} |"


def _groups(findings: List[Finding]) -> List[Tuple[str, str, List[Finding]]]:
    """Consecutive runs of one severity and category (the report is sorted that way)."""
    out: List[Tuple[str, str, List[Finding]]] = []
    for f in findings:
        if out and out[-1][0] == f.severity and out[-1][1] == f.category:
            out[-1][2].append(f)
        else:
            out.append((f.severity, f.category, [f]))
    return out


def _size(lines: List[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


class MarkdownRenderer(Renderer):
    """GitHub-flavoured Markdown; no external images or links; at most ``max_bytes``."""

    name = "markdown"

    def __init__(self, max_bytes: Optional[int] = None) -> None:
        self.max_bytes = max_bytes or DEFAULT_MAX_BYTES

    def render(self, report: DriftReport) -> str:
        if report.verdict == "none" and report.not_compared:
            head = "**envparity: no drift in what was compared**"
        elif report.verdict == "none":
            head = "**envparity: no drift**"
        else:
            head = f"**envparity: drift {report.verdict}**"
        gate = "fails" if report.failed else "passes"
        lines: List[str] = [
            f"{head} — {counts_line(report)}; {gate} at fail-on `{report.fail_on}`",
            "",
        ]
        if report.not_compared:
            listed = ", ".join(code(k) for k in report.not_compared)
            lines += [f"Not compared (cannot be checked here): {listed}", ""]
        gaps = incomplete(report)
        if gaps:
            probes = ", ".join(cell(f.key) for f in gaps)
            lines += [f"**incomplete comparison**: a probe failed ({probes}); see below", ""]
        lines += [
            f"- baseline: {cell(describe(report.baseline))}",
            f"- candidate: {cell(describe(report.candidate))}",
        ]
        lines += [f"- {cell(line)}" for line in context_lines(report)]
        tail: List[str] = []
        if report.benchmarks:
            tail += ["", "<details>", "<summary><b>benchmarks</b></summary>", ""]
            tail += [f"- {cell(benchmark_line(c))}" for c in report.benchmarks]
            tail += [f"- {cell(line)}" for line in conditions_lines(report.benchmarks)]
            tail += ["", "</details>"]
        budget = self.max_bytes - _size(lines) - _size(tail) - _TAIL_RESERVE
        shown = 0
        for severity, category, findings in _groups(report.findings):
            header = [
                "",
                "<details open>" if reaches(severity, report.fail_on) else "<details>",
                f"<summary><b>{severity}: {cell(category)}</b> "
                f"({count(len(findings), severity)})</summary>",
                "",
                "| severity | key | baseline | candidate | what to do |",
                "| --- | --- | --- | --- | --- |",
            ]
            footer = ["", "</details>"]
            cost = _size(header) + _size(footer)
            if cost >= budget:
                break
            rows: List[str] = []
            for f in findings:
                row = _row(f)
                row_cost = len(row.encode("utf-8")) + 1
                if cost + row_cost > budget:
                    break
                rows.append(row)
                cost += row_cost
            if not rows:
                break
            lines += header + rows + footer
            budget -= cost
            shown += len(rows)
            if len(rows) < len(findings):
                break
        left = report.findings[shown:]
        if left:
            counts = severity_counts(
                {s: sum(1 for f in left if f.severity == s) for s in SEVERITIES}
            )
            lines += [
                "",
                f"**{count(len(left), 'more finding')} not shown** "
                f"({counts}): this summary is capped at {self.max_bytes} bytes; the full report "
                "is in the JSON or HTML artifact (`envparity diff --format json -o report.json`, "
                "or `--format html`).",
            ]
        return "\n".join(lines + tail) + "\n"
