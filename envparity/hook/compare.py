"""The hook's one call into the drift engine: plain snapshot data in, a plain report out.

Like the rest of the start-up path (capture, the SQLite store, the baseline cache), this works on
plain JSON data and imports no pydantic: the policy is read by :mod:`envparity.drift.policy`
(the rules ``envparity.policy.Policy`` delegates to) and the report is the drift engine's, the
JSON shape of ``DriftReport`` that ``envparity.compare`` validates into the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

if TYPE_CHECKING:
    from .._shapes_report import DriftReport


def compare(
    baseline: Dict[str, Any],
    candidate: Dict[str, Any],
    *,
    policy_path: Optional[str],
    fail_on: Optional[str],
    baseline_ref: str,
    problems: List[str],
) -> DriftReport:
    """The drift report of ``candidate`` against ``baseline`` (both snapshot JSON data), as the
    JSON data of a ``DriftReport``.

    A policy that cannot be read is one line in ``problems`` and the default policy is used.
    """
    from ..drift.engine import compare as drift
    from ..drift.policy import Rules, load_rules
    from ..errors import EnvparityError

    try:
        policy = load_rules(policy_path)
    except EnvparityError as e:
        problems.append(f"policy: {e} (using the default policy)")
        policy = Rules()
    if fail_on:
        policy = policy.with_fail_on(fail_on)
    # An expired waiver still waives here, and is logged: a date passing never refuses a server.
    report = drift(
        baseline,
        candidate,
        policy.lenient(),
        baseline_ref=baseline_ref,
        candidate_ref=str(candidate.get("snapshot_id") or ""),
    )
    for gone in (report.get("policy") or {}).get("expired") or []:
        problems.append(
            f"policy: the waiver of {gone['key']} expired on {gone['until']} "
            f"({gone['reason']}); it still waives at start-up, but diff and check no longer "
            "accept it: renew or fix it"
        )
    report["not_compared"] = not_compared(baseline, candidate)
    return report


def not_compared(baseline: Dict[str, Any], candidate: Dict[str, Any]) -> List[str]:
    """Facts the baseline records that the start-up snapshot cannot: the switches of a framework
    the server has not imported yet (torch's deterministic switch is set by the application,
    after start-up), and what only an explicit capture records (probe outputs, benchmarks,
    NumPy's SIMD features). Sorted; empty when everything the baseline has was compared."""
    out: List[str] = []
    fb = (baseline.get("determinism") or {}).get("frameworks") or {}
    fc = (candidate.get("determinism") or {}).get("frameworks") or {}
    for framework in sorted(set(fb) - set(fc)):
        out += [
            f"determinism:{framework}.{switch}"
            for switch in sorted(fb[framework] or {})
            if switch != "version"  # the package list compares versions
        ]
    ab, ac = baseline.get("accelerator") or {}, candidate.get("accelerator") or {}
    if ab.get("source") and not ac.get("source"):
        out += [f"accelerator:{k}" for k in sorted(ab) if k != "source" and ab[k] is not None]
    for section in ("numerics", "benchmarks", "numpy_simd"):
        if baseline.get(section) and not candidate.get(section):
            out.append(section)
    return sorted(out)


def verdict_words(report: Mapping[str, Any]) -> str:
    """The verdict as the log line says it: never a bare "no drift" when something could not be
    compared."""
    from ..wording import severity_counts

    missing = report.get("not_compared") or []
    if report["verdict"] != "none":
        drift = f"{report['verdict']} drift ({severity_counts(report['counts'])})"
    else:
        drift = "no drift in what was compared" if missing else "no drift"
    return drift + (f"; not compared: {', '.join(missing)}" if missing else "")
