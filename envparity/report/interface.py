"""The renderer interface, and helpers every format shares."""

from __future__ import annotations

import abc
import re
from typing import Any, Dict, List, Tuple

from ..model import SEVERITIES, BenchmarkComparison, DriftReport, Finding, SnapshotSummary


class Renderer(abc.ABC):
    """Turns a :class:`~envparity.model.DriftReport` into text in one format."""

    #: The name given to ``--format``.
    name: str = ""

    @abc.abstractmethod
    def render(self, report: DriftReport) -> str:
        """The whole document, ending with a newline."""


# Control characters (ANSI escapes, carriage returns) in a value could rewrite a terminal, forge
# log lines or break a document; every renderer shows them escaped instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters written as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def show(value: Any) -> str:
    """A finding's value as a person reads it, control characters escaped."""
    if value is None:
        return "(absent)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(str(value))


def counts_line(report: DriftReport) -> str:
    """``2 errors, 1 warning, 3 info`` (all three, so a reader sees what is zero)."""
    from ..wording import severity_counts

    return severity_counts(report.counts, zeros=True)


def verdict_line(report: DriftReport) -> str:
    """One line: the verdict, the counts and whether it fails at fail-on."""
    if report.verdict == "none":
        head = "no drift"
    else:
        head = f"drift {report.verdict.upper()}"
    gate = "FAIL" if report.failed else "pass"
    return f"envparity: {head}: {counts_line(report)} (fail-on {report.fail_on}: {gate})"


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
    if fail_on == "never":
        return False
    return SEVERITIES.index(finding.severity) >= SEVERITIES.index(fail_on)


def benchmark_line(c: BenchmarkComparison) -> str:
    """``matmul: slower, 1.31x (99% CI 1.20-1.45)``."""
    text = f"{c.name}: {c.verdict}"
    if c.ratio is not None:
        text += f", {c.ratio:.3g}x"
        if c.ci_low is not None and c.ci_high is not None:
            text += f" ({c.confidence:.0%} CI {c.ci_low:.3g}-{c.ci_high:.3g})"
    if c.why:
        text += f": {c.why}"
    return printable(text)
