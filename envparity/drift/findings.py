"""The collector every comparison writes to: plain finding dicts, redaction applied on the way in.

A finding is a dict with ``category``, ``key``, ``baseline``, ``candidate``, ``change`` (added,
removed, changed, or incomplete for a probe error), ``severity``, ``why`` and, when the finding
stands for a root cause, ``related`` (the other ``category:key`` names it covers): the JSON shape
of ``envparity.model.Finding``, typed by the TypedDict generated from it (envparity._shapes_report).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Sequence

from ..redact import REDACTED

if TYPE_CHECKING:
    from .._shapes_report import Finding as ReportFinding

    class Finding(ReportFinding, total=False):
        """A finding as the engine builds it: the report's, with the group it is to be folded
        into until :func:`envparity.drift.engine.fold` takes that out."""

        _group: str

else:
    # A TypedDict is a plain dict at run time; the generated shapes are for the type checker
    # only, and importing them (~2.5 ms of typing machinery) is a cost the start-up hook pays.
    ReportFinding = Finding = dict


def empty(value: Any) -> bool:
    """Absent, null, false, "" or empty: one meaning however it was spelled (as in the
    fingerprint, ``envparity.identity``), so a dict that leaves a default out and one that
    writes it compare equal."""
    return value is None or value is False or (isinstance(value, (str, list, dict)) and not value)


def same(a: Any, b: Any) -> bool:
    return a == b or (empty(a) and empty(b))


def show(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def _secret(value: Any) -> bool:
    return isinstance(value, str) and REDACTED in value


class Findings:
    """Collects findings; a value that is (or holds) a redaction never shows the other side.

    ``incomplete`` holds the categories a failed probe would have filled: an added or removed
    finding there is not evidence (the probe could not read it), so it is held back and its key
    listed in ``suppressed`` for the probe's "incomplete comparison" finding.
    """

    def __init__(self, incomplete: FrozenSet[str] = frozenset()) -> None:
        self.items: List[Finding] = []
        self.incomplete = incomplete
        self.suppressed: Dict[str, List[str]] = {}

    def add(
        self,
        category: str,
        key: str,
        baseline: Any,
        candidate: Any,
        severity: str,
        why: str,
        related: Optional[Sequence[str]] = None,
        *,
        severity_reason: Optional[str] = None,
        group: Optional[str] = None,
    ) -> None:
        """Add a finding. ``severity_reason`` says why it has its severity (else the engine's
        default for its category); ``group`` folds it with the others of that group after the
        policy (``envparity.drift.engine.fold``)."""
        if _secret(baseline) or _secret(candidate):
            # When one side was redacted, the other side's value is as sensitive (a secret that
            # merely failed to match a pattern): both are shown redacted, never the value.
            baseline = None if baseline is None else REDACTED
            candidate = None if candidate is None else REDACTED
            why = (
                "a secret-looking value differs (values not shown): check that the candidate "
                "uses the intended one"
            )
        change = "added" if baseline is None else "removed" if candidate is None else "changed"
        if change != "changed" and category in self.incomplete:
            self.suppressed.setdefault(category, []).append(f"{category}:{key}")
            return
        finding: Finding = {
            "category": category,
            "key": key,
            "baseline": baseline,
            "candidate": candidate,
            "change": change,
            "severity": severity,
            "why": why,
        }
        if related:
            finding["related"] = list(related)
        if severity_reason:
            finding["severity_reason"] = severity_reason
        if group:
            finding["_group"] = group
        self.items.append(finding)

    def incomplete_finding(
        self, key: str, baseline: Any, candidate: Any, severity: str, why: str,
        related: Optional[Sequence[str]] = None,
    ) -> None:
        """A comparison that could not be made: never redacted (messages are envparity's own)."""
        finding: Finding = {
            "category": "collection",
            "key": key,
            "baseline": baseline,
            "candidate": candidate,
            "change": "incomplete",
            "severity": severity,
            "why": why,
        }
        if related:
            finding["related"] = list(related)
        self.items.append(finding)
