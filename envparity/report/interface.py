"""The renderer interface, and helpers every format shares."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Sequence, Tuple

from ..drift.measured import benchmark_text
from ..drift.severity import RANK, SEVERITIES, reaches
from ..model import BenchmarkComparison, DriftReport, Finding, SnapshotSummary
from .escape import printable, show

__all__ = [
    "Renderer",
    "at_or_above",
    "benchmark_line",
    "by_category",
    "by_severity",
    "context_lines",
    "counts_line",
    "describe",
    "finding_values",
    "incomplete",
    "printable",
    "show",
    "sides",
    "verdict_line",
]


class Renderer(abc.ABC):
    """Turns a :class:`~envparity.model.DriftReport` into text in one format."""

    #: The name given to ``--format``.
    name: str = ""

    #: The most bytes the document may take (formats read where size is capped honour it).
    max_bytes: int = 0

    @abc.abstractmethod
    def render(self, report: DriftReport) -> str:
        """The whole document, ending with a newline."""


def counts_line(report: DriftReport) -> str:
    """``2 errors, 1 warning, 3 info`` (all three, so a reader sees what is zero)."""
    from ..wording import severity_counts

    return severity_counts(report.counts, zeros=True)


def incomplete(report: DriftReport) -> List[Finding]:
    """The findings that say a comparison could not be made (a probe failed)."""
    return [f for f in report.findings if f.change == "incomplete"]


def verdict_line(report: DriftReport) -> str:
    """One line: the verdict, the counts, whether it fails at fail-on, and whether the comparison
    was complete."""
    if report.verdict == "none":
        head = "no drift in what was compared" if report.not_compared else "no drift"
    else:
        head = f"drift {report.verdict.upper()}"
    gate = "FAIL" if report.failed else "pass"
    gaps = incomplete(report)
    note = f"; incomplete comparison ({len(gaps)} probe error{'s' if len(gaps) != 1 else ''})"
    return (
        f"envparity: {head}: {counts_line(report)} (fail-on {report.fail_on}: {gate})"
        + (note if gaps else "")
        + (f"; not compared: {printable(', '.join(report.not_compared))}"
           if report.not_compared else "")
    )


def policy_line(report: DriftReport) -> str:
    """``policy: pyproject.toml [tool.envparity]: ignored 1 (package:pip), changed 1
    (package:numpy error -> info by [severity] 'package:numpy' = 'info'), waived 1 (...)``."""
    p = report.policy
    if p is None or not p.source:
        where = "the default policy (no [tool.envparity] found)"
    else:
        where = f"{p.source}{' ' + p.table if p.table else ''}"
    parts: List[str] = []
    if p is not None:
        if p.ignored:
            parts.append(f"ignored {len(p.ignored)} ({_few(p.ignored)})")
        down = [c for c in p.changed if RANK[c.after] < RANK[c.before]]
        up = [c for c in p.changed if RANK[c.after] > RANK[c.before]]
        for word, changes in (("downgraded", down), ("raised", up)):
            if changes:
                shown = _few([f"{c.key} {c.before} -> {c.after} by {c.rule}" for c in changes])
                parts.append(f"{word} {len(changes)} ({shown})")
        if p.waived:
            shown = _few([f"{w.key} until {w.until or 'no end date'}" for w in p.waived])
            parts.append(f"waived {len(p.waived)} ({shown})")
        if p.expired:
            shown = _few([f"{w.key} on {w.until}" for w in p.expired])
            parts.append(f"expired waivers {len(p.expired)} ({shown})")
    return printable(f"policy: {where}: " + ("; ".join(parts) if parts else "changed nothing"))


def _few(items: List[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f", and {len(items) - n} more" if len(items) > n else "")


def context_lines(report: DriftReport) -> List[str]:
    """The relevance note (once per report) and the policy line."""
    lines = []
    if report.relevance is not None:
        lines.append(printable(report.relevance.note))
    lines.append(policy_line(report))
    return lines


def describe(side: SnapshotSummary) -> str:
    """``ref (id 1234abcd5678, role training, model=fraud, host vm, 2026-01-02 03:04 UTC)``."""
    parts = [f"id {side.snapshot_id[:12]}"]
    if side.role:
        parts.append(f"role {side.role}")
    parts.extend(f"{k}={v}" for k, v in sorted(side.labels.items()))
    if side.hostname:
        parts.append(f"host {side.hostname}")
    parts.append(side.captured_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip())
    return printable(f"{side.ref} ({', '.join(parts)})")


def sides(f: Finding) -> Tuple[Any, Any]:
    """A finding's two values as shown: an incomplete comparison's side without error says so."""
    if f.change == "incomplete":
        return (
            "no error" if f.baseline is None else f.baseline,
            "no error" if f.candidate is None else f.candidate,
        )
    if f.members:  # a grouped finding: each package with its version on that side
        return (
            ", ".join(f"{m.key} {show(m.baseline)}" for m in f.members),
            ", ".join(f"{m.key} {show(m.candidate)}" for m in f.members),
        )
    return f.baseline, f.candidate


def finding_values(f: Finding) -> str:
    """``baseline -> candidate  [change]``; a probe error shows each side's message."""
    if f.change == "incomplete":
        a, b = sides(f)
        return f"baseline: {show(a)}; candidate: {show(b)}  [incomplete]"
    if f.members:
        return f"{len(f.members)} packages  [grouped]"
    return f"{show(f.baseline)} -> {show(f.candidate)}  [{f.change}]"


def by_severity(findings: List[Finding]) -> List[Tuple[str, List[Finding]]]:
    """Findings grouped by severity, errors first, empty groups left out."""
    groups: Dict[str, List[Finding]] = {s: [] for s in SEVERITIES}
    for f in findings:
        groups[f.severity].append(f)
    return [(s, groups[s]) for s in reversed(SEVERITIES) if groups[s]]


def by_category(findings: List[Finding]) -> List[Tuple[str, List[Finding]]]:
    """Findings grouped by category, in the order they first appear (the report's sort)."""
    groups: Dict[str, List[Finding]] = {}
    for f in findings:
        groups.setdefault(f.category, []).append(f)
    return list(groups.items())


def at_or_above(finding: Finding, fail_on: str) -> bool:
    """True when ``finding`` alone makes a report fail at ``fail_on``."""
    return reaches(finding.severity, fail_on)


def conditions_lines(comparisons: Sequence[BenchmarkComparison]) -> List[str]:
    """The conditions each side's benchmarks ran under (one run per side, so the first
    comparison that has them speaks for all); empty when neither side recorded any."""
    first = next(
        (c for c in comparisons if c.baseline_conditions or c.candidate_conditions), None
    )
    if first is None:
        return []
    return [
        printable(f"baseline ran under: {first.baseline_conditions or 'not recorded'}"),
        printable(f"candidate ran under: {first.candidate_conditions or 'not recorded'}"),
    ]


def benchmark_line(c: BenchmarkComparison) -> str:
    """``matmul: 1.31x slower (99% CI 1.20-1.45; 6.17 ms -> 8.08 ms)``: one ratio convention."""
    data: Dict[str, Any] = c.model_dump()
    return printable(f"{c.name}: {benchmark_text(data)}")
