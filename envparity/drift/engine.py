"""The drift engine: two snapshots as plain JSON dicts in, plain findings and a verdict out.

``compare(baseline, candidate, policy)`` is pure (no I/O, no clock) and needs no pydantic: the
start-up hook can call it on the dicts ``identity.py`` and ``snapshot --no-store`` use. It runs
the field rules (:mod:`.rules`) and the coded comparisons, turns probe errors into "incomplete
comparison" findings (holding back the added/removed findings the failed probe would explain),
judges packages by the baseline's relevant set, applies the policy and its waivers, folds the
grouped findings (:func:`fold`), orders the findings and sets the verdict; the report says what
relevance came from and what the policy changed. ``envparity.compare`` wraps the
result in the pydantic ``DriftReport`` for the API and the renderers.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    cast,
)

from ..identity import SCHEMA_VERSION
from ..redact import redact_snapshot
from ..relevance.relevant import RelevantSet, relevant_set
from ..severity import CATEGORIES as CATEGORIES  # report order, defined once
from . import devices, measured, packages, variables
from .findings import Finding, Findings, ReportFinding, empty, same, show
from .rules import FIELD_RULES
from .severity import RANK, SEVERITIES, reaches, verdict_of

if TYPE_CHECKING:
    from .._shapes_measures import BenchmarkComparison
    from .._shapes_report import DriftReport, PolicyChange, PolicyEffect, SnapshotSummary, Waiver
    from .._shapes_snapshot import CodeInfo, PythonInfo, Snapshot
    from .policy import WaiverRule

_CATEGORY_ORDER = {name: i for i, name in enumerate(CATEGORIES)}

#: Probe (as named in ``collection.errors``) -> the finding categories it fills.
PROBE_CATEGORIES: Dict[str, Tuple[str, ...]] = {
    "packages": ("package",),
    "python": ("python",),
    "envvars": ("env", "determinism"),
    "blas": ("blas",),
    "platform": ("platform",),
    "cpu": ("cpu", "memory"),
    "gpu": ("gpu",),
    "code": ("code",),
    "frameworks": ("determinism", "accelerator"),
    "seeds": ("seed",),
}


class PolicyLike(Protocol):
    @property
    def fail_on(self) -> str:
        """info, warning, error or never."""

    def decider(self) -> Optional[Callable[[str, str, str], Optional[str]]]:
        """``(category, key, severity) -> severity or None (drop)``; None: changes nothing."""


#: A snapshot's data as its callers and redact_snapshot/relevant_set/fingerprint_data type it
#: (mypy makes no Dict[str, Any] a TypedDict); :func:`findings` reads it as the Snapshot it is.
SnapshotData = Dict[str, Any]

_Section = TypeVar("_Section", bound=Mapping[str, object])


def _section(value: Optional[_Section]) -> _Section:
    """A section of snapshot data, or ``{}`` where it is absent or not an object."""
    return value if isinstance(value, dict) else cast(_Section, {})


def _probe_errors(data: Snapshot) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for error in _section(data.get("collection")).get("errors") or []:
        if isinstance(error, dict):
            probe = str(error.get("probe") or "unknown")
            message = str(error.get("message") or "")
            found.setdefault(probe, []).append(message)
    return found


def _first(messages: Optional[List[str]]) -> Optional[str]:
    if not messages:
        return None
    more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
    return messages[0] + more


def _incomplete(out: Findings, ea: Dict[str, List[str]], eb: Dict[str, List[str]]) -> None:
    for probe in sorted(ea.keys() | eb.keys()):
        ma, mb = ea.get(probe), eb.get(probe)
        both = bool(ma) and bool(mb)
        same = both and sorted(ma or []) == sorted(mb or [])
        side = "both sides" if both else "the baseline" if ma else "the candidate"
        categories = PROBE_CATEGORIES.get(probe, ())
        held = [k for c in categories for k in out.suppressed.get(c, [])]
        what = (
            f"{', '.join(categories)} entries present on one side only are not reported as drift"
            if categories
            else "what it records is not compared"
        )
        if held:
            what += f" ({len(held)} held back: see related)"
        out.incomplete_finding(
            probe,
            _first(ma),
            _first(mb),
            "info" if same else "warning",
            f"incomplete comparison: the {probe} probe failed on {side}, so {what}; fix what "
            "the message names and snapshot again",
            held,
        )


def _field_rules(out: Findings, base: Snapshot, cand: Snapshot) -> None:
    oldest = min(
        base.get("schema_version") or SCHEMA_VERSION, cand.get("schema_version") or SCHEMA_VERSION
    )
    for rule in FIELD_RULES:
        if rule.since > oldest:
            continue  # a side's schema predates the field: unknown there
        a, b = base.get(rule.section), cand.get(rule.section)
        if not isinstance(a, dict) or not isinstance(b, dict):
            continue
        va, vb = a.get(rule.field), b.get(rule.field)
        if same(va, vb):
            continue
        values = {"baseline": show(va), "candidate": show(vb)}
        why = rule.why.format(**values) + ": " + rule.todo.format(**values)
        out.add(rule.finding_category, rule.finding_key, va, vb, rule.severity, why)


def _python_version(out: Findings, a: PythonInfo, b: PythonInfo) -> None:
    va, vb = str(a.get("version", "")), str(b.get("version", ""))
    if va == vb:
        return
    pa, pb = va.split("."), vb.split(".")
    if pa[:2] != pb[:2]:
        out.add(
            "python",
            "version",
            va,
            vb,
            "error",
            f"another Python minor version (other wheels, other stdlib behaviour): "
            f"use Python {'.'.join(pa[:2])} in the candidate",
        )
    else:
        out.add(
            "python",
            "version",
            va,
            vb,
            "info",
            f"patch release of the same Python (bug fixes only): use {va} for a bit-identical "
            "runtime",
        )


def _code(out: Findings, a: Optional[CodeInfo], b: Optional[CodeInfo]) -> None:
    if empty(a) and empty(b):
        return
    if empty(a) or empty(b):
        out.add(
            "code",
            "checkout",
            "git" if a else None,
            "git" if b else None,
            "info",
            "a git checkout on one side only; snapshot from the same checkout to compare code",
        )
        return
    variables.code(out, a, b)


def sort_key(finding: Mapping[str, Any]) -> Tuple[int, int, str]:
    """Errors first, then by category (in the design's order), then by key."""
    return (-RANK[finding["severity"]], _CATEGORY_ORDER.get(finding["category"], 99),
            finding["key"])


def summary(data: SnapshotData, ref: str = "") -> SnapshotSummary:
    """Which snapshot a report side is (the fields of ``SnapshotSummary``)."""
    # None where the data has none (identity-only data), as ever: typed as the report's str.
    captured_at: Any = data.get("captured_at")
    fp = data.get("fingerprint")
    if not fp:
        from ..identity import fingerprint_data

        fp = fingerprint_data(data)
    return {
        "ref": ref or data.get("snapshot_id", ""),
        "snapshot_id": data.get("snapshot_id", ""),
        "fingerprint": fp,
        "role": data.get("role") or "",
        "labels": dict(data.get("labels") or {}),
        "captured_at": captured_at,
        "hostname": _section(data.get("platform")).get("hostname"),
    }


def relevance_of(base: SnapshotData, cand: SnapshotData) -> RelevantSet:
    """The relevant set of ``base`` (see :mod:`envparity.relevance.relevant`)."""
    names = [p.get("name") for p in base.get("packages") or []]
    names += [p.get("name") for p in cand.get("packages") or []]
    return relevant_set(base, cand, [n for n in names if isinstance(n, str)])


def findings(
    base: SnapshotData, cand: SnapshotData, relevance: Optional[RelevantSet] = None
) -> Tuple[List[Finding], List[BenchmarkComparison]]:
    """Every finding (before the policy and the folding of groups) and the benchmark
    comparisons. ``relevance``: the baseline's relevant set (default: computed here)."""
    # Both sides under today's rules: a rule added since one side was captured is no drift.
    base, cand = redact_snapshot(base), redact_snapshot(cand)
    a, b = cast("Snapshot", base), cast("Snapshot", cand)  # the same data, read as the shape it is
    ea, eb = _probe_errors(a), _probe_errors(b)
    incomplete: FrozenSet[str] = frozenset(
        c for probe in (ea.keys() | eb.keys()) for c in PROBE_CATEGORIES.get(probe, ())
    )
    out = Findings(incomplete)
    if relevance is None:
        relevance = relevance_of(base, cand)
    packages.compare(
        out,
        a.get("packages") or [],
        b.get("packages") or [],
        relevance=relevance,
        candidate_role=str(b.get("role") or ""),
    )
    packages.compare(
        out, a.get("shadowed") or [], b.get("shadowed") or [], shadowed=True
    )
    packages.conda(out, a.get("conda_packages") or [], b.get("conda_packages") or [])
    _field_rules(out, a, b)
    _python_version(out, _section(a.get("python")), _section(b.get("python")))
    pa, pb = _section(a.get("platform")), _section(b.get("platform"))
    env_a, env_b = _section(a.get("env")), _section(b.get("env"))
    variables.timezone(out, pa, pb, env_a, env_b)
    variables.locale(out, pa, pb, env_a, env_b)
    ca, cb = _section(a.get("cpu")), _section(b.get("cpu"))
    devices.cpu_flags(out, ca, cb)
    devices.gpus(out, _section(a.get("gpus")), _section(b.get("gpus")))
    devices.accelerator(out, _section(a.get("accelerator")), _section(b.get("accelerator")))
    runtimes: List[Tuple[str, Any, Any]] = []
    devices.blas(out, a.get("blas") or [], b.get("blas") or [], runtimes)
    da, db = _section(a.get("determinism")), _section(b.get("determinism"))
    variables.threads(out, da.get("env") or {}, db.get("env") or {}, ca, cb, runtimes)
    variables.determinism(out, da, db)
    variables.seeds(
        out, _section(a.get("seeds")).get("declared") or {},
        _section(b.get("seeds")).get("declared") or {},
    )
    variables.env(out, env_a, env_b)
    _code(out, a.get("code"), b.get("code"))
    benchmarks = measured.compare(out, a, b)
    if ea or eb:
        _incomplete(out, ea, eb)
    return out.items, benchmarks


def _default_reason(f: ReportFinding) -> str:
    if f["change"] == "incomplete":
        return "a comparison that could not be made: " + (
            "the same error on both sides" if f["severity"] == "info" else "one side failed"
        )
    return f"the {f['category']} rule (docs/severity.md); the model's use does not change it"


def fold(items: List[Finding]) -> List[ReportFinding]:
    """Fold the findings that carry a ``_group`` into one finding per group (two or more
    members; a lone member stays as it is), every member still listed under ``members``."""
    groups: Dict[str, List[Finding]] = {}
    kept: List[ReportFinding] = []
    for f in items:
        group = f.pop("_group", None)
        if group is None:
            kept.append(f)
        else:
            groups.setdefault(group, []).append(f)
    for group, members in sorted(groups.items()):
        if len(members) == 1:
            kept.append(members[0])
            continue
        members.sort(key=lambda m: m["key"])
        names = [m["key"] for m in members]
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        severity = max((m["severity"] for m in members), key=RANK.__getitem__)
        reasons = sorted({m.get("severity_reason") or "" for m in members} - {""})
        kept.append(
            {
                "category": "package",
                "key": group,
                "baseline": None,
                "candidate": None,
                "change": "changed",
                "severity": severity,
                "why": packages.GROUPS[group].format(n=len(members), names=shown),
                "severity_reason": "; ".join(reasons),
                "related": [f"package:{n}" for n in names],
                "members": [
                    {
                        "key": m["key"],
                        "baseline": m.get("baseline"),
                        "candidate": m.get("candidate"),
                        "severity": m["severity"],
                        "why": m["why"],
                    }
                    for m in members
                ],
            }
        )
    return kept


def decided(
    items: List[Finding], policy: Optional[PolicyLike] = None
) -> List[ReportFinding]:
    """``items`` after the policy (dropped, re-graded or waived; groups folded; never modified in
    place), in report order. The fleet applies it on read to cached identity findings."""
    return _decide(items, policy)[0]


def _decide(
    items: List[Finding], policy: Optional[PolicyLike]
) -> Tuple[List[ReportFinding], _Effect]:
    explain = getattr(policy, "explain", None) if policy is not None else None
    decide = policy.decider() if policy is not None else None
    effect = _Effect(policy)
    kept: List[Finding] = []
    for f in items:
        if explain is not None and (decide is not None or effect.waivers):
            severity, rule = explain(f["category"], f["key"], f["severity"])
            if severity is None:
                effect.ignored.append(f"{f['category']}:{f['key']}")
                continue
            if rule:
                # A finding the policy names is its own: never folded into a group.
                f = f.copy()
                f.pop("_group", None)
            if severity != f["severity"]:
                effect.changed.append(
                    {"key": f"{f['category']}:{f['key']}", "before": f["severity"],
                     "after": severity, "rule": rule}
                )
                f = f.copy()
                f["severity"], f["severity_reason"] = severity, f"policy: {rule}"
            waived = effect.waive(f)
            if waived is not f:
                waived.pop("_group", None)
            f = waived
        elif decide is not None:
            severity = decide(f["category"], f["key"], f["severity"])
            if severity is None:
                continue
            if severity != f["severity"]:
                f = f.copy()
                f["severity"], f["severity_reason"] = severity, "policy override"
        kept.append(f)
    out = fold(kept)
    out += effect.expiry_findings()
    for g in out:
        if not g.get("severity_reason"):
            g["severity_reason"] = _default_reason(g)
    out.sort(key=sort_key)
    return out, effect


def compare(
    baseline: SnapshotData,
    candidate: SnapshotData,
    policy: Optional[PolicyLike] = None,
    *,
    baseline_ref: str = "",
    candidate_ref: str = "",
) -> DriftReport:
    """The drift report as plain data (the JSON shape of ``DriftReport``)."""
    relevance = relevance_of(baseline, candidate)
    items, benchmarks = findings(baseline, candidate, relevance)
    kept, effect = _decide(items, policy)
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in kept:
        counts[f["severity"]] += 1
    verdict = verdict_of(counts)
    fail_on = policy.fail_on if policy is not None else "error"
    return {
        "schema_version": 1,
        "baseline": summary(baseline, baseline_ref),
        "candidate": summary(candidate, candidate_ref),
        "verdict": verdict,
        "fail_on": fail_on,
        "failed": reaches(verdict, fail_on),
        "counts": counts,
        "findings": kept,
        "benchmarks": benchmarks,
        "relevance": {
            "known": relevance.known,
            "note": relevance.note(),
            "sources": list(relevance.sources),
        },
        "policy": effect.summary(),
    }


class _Effect:
    """What the policy did to this report: ignored, re-graded, waived, and expired waivers."""

    def __init__(self, policy: Optional[PolicyLike]) -> None:
        self.policy = policy
        self.ignored: List[str] = []
        self.changed: List[PolicyChange] = []
        self.waived: List[Waiver] = []
        self.expired: List[Waiver] = []
        self.waivers: List[WaiverRule] = list(getattr(policy, "waivers", None) or [])
        today = getattr(policy, "today", None)
        self.today: str = str(today) if today else ""
        self.lenient = bool(getattr(policy, "lenient_expiry", False))

    def waive(self, f: Finding) -> Finding:
        from fnmatch import fnmatchcase

        from .policy import normalize

        target = f"{f['category']}:{f['key']}"
        for w in self.waivers:
            if not fnmatchcase(target, normalize(w["key"])):
                continue
            until = w.get("until") or ""
            expired = bool(until and self.today and until < self.today)
            entry: Waiver = {
                "key": target, "rule": w["key"], "reason": w["reason"], "until": until or None
            }
            if expired:
                if not any(e["rule"] == w["key"] for e in self.expired):
                    self.expired.append(_waiver(entry, key=w["key"], expired=True))
                if not self.lenient:
                    out = f.copy()
                    out["waived"] = _waiver(entry, expired=True)
                    return out
            self.waived.append(entry)
            when = f"until {until}" if until else "with no end date"
            out = f.copy()
            out["severity"] = "info"
            out["waived"] = _waiver(entry, expired=expired)
            out["severity_reason"] = f"waived {when}: {w['reason']} (was {f['severity']})"
            return out
        return f

    def expiry_findings(self) -> List[ReportFinding]:
        if self.lenient:
            return []  # the start-up hook logs them; a date passing never refuses a server
        return [
            {
                "category": "policy",
                "key": f"waive:{e['key']}",
                "baseline": e["until"],
                "candidate": self.today,
                "change": "changed",
                "severity": "warning",
                "why": f"the waiver of {e['key']} ({e['reason']}) expired on {e['until']}: the "
                "findings it covered have their severity back; fix them, or renew the waiver "
                "with a new until date",
                "severity_reason": "an expired waiver: the policy's own date passed",
            }
            for e in self.expired
        ]

    def summary(self) -> PolicyEffect:
        policy = self.policy
        source = getattr(policy, "source", None) if policy is not None else None
        table = getattr(policy, "table", None) if policy is not None else None
        return {
            "source": source,
            "table": table,
            "ignored": sorted(self.ignored),
            "changed": sorted(self.changed, key=lambda c: c["key"]),
            "waived": sorted(self.waived, key=lambda c: c["key"]),
            "expired": sorted(self.expired, key=lambda c: c["key"]),
        }


def _waiver(entry: Waiver, *, expired: bool, key: Optional[str] = None) -> Waiver:
    """A copy of ``entry`` with ``expired`` (and ``key``) set: ``dict(entry, ...)``, typed."""
    out = entry.copy()
    if key is not None:
        out["key"] = key
    out["expired"] = expired
    return out
