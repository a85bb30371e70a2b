"""The drift engine: two snapshots as plain JSON dicts in, plain findings and a verdict out.

``compare(baseline, candidate, policy)`` is pure (no I/O, no clock) and needs no pydantic: the
start-up hook can call it on the dicts ``identity.py`` and ``snapshot --no-store`` use. It runs
the field rules (:mod:`.rules`) and the coded comparisons, turns probe errors into "incomplete
comparison" findings (holding back the added/removed findings the failed probe would explain),
applies the policy, orders the findings and sets the verdict. ``envparity.diff.diff`` wraps the
result in the pydantic ``DriftReport`` for the API and the renderers.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, List, Optional, Protocol, Tuple

from ..identity import SCHEMA_VERSION
from . import devices, measured, packages, variables
from .findings import Finding, Findings, empty, same, show
from .rules import FIELD_RULES
from .severity import RANK, SEVERITIES, reaches, verdict_of

#: Finding categories in report order (DESIGN.md, "Drift"; collection holds probe errors).
CATEGORIES: Tuple[str, ...] = (
    "collection",
    "package",
    "python",
    "platform",
    "cpu",
    "memory",
    "gpu",
    "accelerator",
    "blas",
    "determinism",
    "seed",
    "env",
    "code",
    "numerics",
    "benchmark",
)
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


def _section(data: Dict[str, Any], name: str) -> Dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _probe_errors(data: Dict[str, Any]) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for error in _section(data, "collection").get("errors") or []:
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


def _field_rules(out: Findings, base: Dict[str, Any], cand: Dict[str, Any]) -> None:
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


def _python_version(out: Findings, a: Dict[str, Any], b: Dict[str, Any]) -> None:
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


def _code(out: Findings, a: Any, b: Any) -> None:
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


def sort_key(finding: Finding) -> Tuple[int, int, str]:
    """Errors first, then by category (in DESIGN order), then by key."""
    return (-RANK[finding["severity"]], _CATEGORY_ORDER.get(finding["category"], 99),
            finding["key"])


def summary(data: Dict[str, Any], ref: str = "") -> Dict[str, Any]:
    """Which snapshot a report side is (the fields of ``SnapshotSummary``)."""
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
        "captured_at": data.get("captured_at"),
        "hostname": _section(data, "platform").get("hostname"),
    }


def findings(base: Dict[str, Any], cand: Dict[str, Any]) -> Tuple[List[Finding], List[Any]]:
    """Every finding (before the policy) and the benchmark comparisons."""
    ea, eb = _probe_errors(base), _probe_errors(cand)
    incomplete: FrozenSet[str] = frozenset(
        c for probe in (ea.keys() | eb.keys()) for c in PROBE_CATEGORIES.get(probe, ())
    )
    out = Findings(incomplete)
    packages.compare(out, base.get("packages") or [], cand.get("packages") or [])
    packages.compare(
        out, base.get("shadowed") or [], cand.get("shadowed") or [], shadowed=True
    )
    packages.conda(out, base.get("conda_packages") or [], cand.get("conda_packages") or [])
    _field_rules(out, base, cand)
    _python_version(out, _section(base, "python"), _section(cand, "python"))
    pa, pb = _section(base, "platform"), _section(cand, "platform")
    env_a, env_b = _section(base, "env"), _section(cand, "env")
    variables.timezone(out, pa, pb, env_a, env_b)
    variables.locale(out, pa, pb, env_a, env_b)
    ca, cb = _section(base, "cpu"), _section(cand, "cpu")
    devices.cpu_flags(out, ca, cb)
    devices.gpus(out, _section(base, "gpus"), _section(cand, "gpus"))
    devices.accelerator(out, _section(base, "accelerator"), _section(cand, "accelerator"))
    runtimes: List[Tuple[str, Any, Any]] = []
    devices.blas(out, base.get("blas") or [], cand.get("blas") or [], runtimes)
    da, db = _section(base, "determinism"), _section(cand, "determinism")
    variables.threads(out, da.get("env") or {}, db.get("env") or {}, ca, cb, runtimes)
    variables.determinism(out, da, db)
    variables.seeds(
        out, _section(base, "seeds").get("declared") or {},
        _section(cand, "seeds").get("declared") or {},
    )
    variables.env(out, env_a, env_b)
    _code(out, base.get("code"), cand.get("code"))
    benchmarks = measured.compare(out, base, cand)
    if ea or eb:
        _incomplete(out, ea, eb)
    return out.items, benchmarks


def decided(items: List[Finding], policy: Optional[PolicyLike] = None) -> List[Finding]:
    """``items`` after the policy (dropped or re-graded; never modified), in report order."""
    decide = policy.decider() if policy is not None else None
    kept: List[Finding] = []
    for f in items:
        if decide is not None:
            severity = decide(f["category"], f["key"], f["severity"])
            if severity is None:
                continue
            if severity != f["severity"]:
                f = dict(f, severity=severity)
        kept.append(f)
    kept.sort(key=sort_key)
    return kept


def compare(
    baseline: Dict[str, Any],
    candidate: Dict[str, Any],
    policy: Optional[PolicyLike] = None,
    *,
    baseline_ref: str = "",
    candidate_ref: str = "",
) -> Dict[str, Any]:
    """The drift report as plain data (the JSON shape of ``DriftReport``)."""
    items, benchmarks = findings(baseline, candidate)
    kept = decided(items, policy)
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
    }
