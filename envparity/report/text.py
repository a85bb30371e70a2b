"""Plain text for a terminal or a CI log: the verdict first, then findings by severity.

Every value goes through the escaping layer: no ESC, CR or bidi override reaches the terminal.
"""

from __future__ import annotations

from typing import List

from ..model import DriftReport
from .interface import (
    Renderer,
    benchmark_line,
    by_severity,
    conditions_lines,
    context_lines,
    describe,
    finding_values,
    printable,
    verdict_line,
)

_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Info"}


class TextRenderer(Renderer):
    """Readable in a terminal and a CI log; no colour, no Rich, so logs stay clean."""

    name = "text"

    def render(self, report: DriftReport) -> str:
        lines: List[str] = [
            verdict_line(report),
            f"  baseline:  {describe(report.baseline)}",
            f"  candidate: {describe(report.candidate)}",
        ]
        lines += [f"  {line}" for line in context_lines(report)]
        for severity, findings in by_severity(report.findings):
            lines.append("")
            lines.append(f"{_TITLES[severity]} ({len(findings)}):")
            for f in findings:
                lines.append(f"  {f.category}:{printable(f.key)}  {finding_values(f)}")
                lines.append(f"      {printable(f.why)}")
                if f.severity_reason:
                    lines.append(f"      {f.severity} because: {printable(f.severity_reason)}")
                if f.members:
                    names = ", ".join(m.key for m in f.members)
                    lines.append(f"      packages: {printable(names)}")
                if f.related and not f.members:  # a group lists its packages instead
                    lines.append(f"      related: {printable(', '.join(f.related))}")
        if report.benchmarks:
            lines.append("")
            lines.append(f"Benchmarks ({len(report.benchmarks)}):")
            lines.extend(f"  {benchmark_line(c)}" for c in report.benchmarks)
            lines.extend(f"  {line}" for line in conditions_lines(report.benchmarks))
        return "\n".join(lines) + "\n"
