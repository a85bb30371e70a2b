"""``envparity parity``: run the probes here and compare them with a baseline's stored outputs.

The CI gate for "same inputs, same outputs" without a full snapshot diff: the report holds only
the probes' findings (category ``numerics``), rendered by the usual report formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ..errors import BadInput

if TYPE_CHECKING:
    from ..model import DriftReport, NumericResult, Snapshot
    from ..policy import Policy
    from .compare import ProbeComparison


@dataclass
class Here:
    """This environment, as much of it as a parity report names."""

    snapshot_id: str
    fingerprint: str
    packages: Dict[str, str]
    captured_at: datetime
    hostname: Optional[str] = None


def here() -> Here:
    """Capture this environment's identity as plain data (no pydantic model built)."""
    from ..collect.capture import collect_data
    from ..collect.interface import Context
    from .compare import packages_of

    data = collect_data(ctx=Context(subprocess=False))
    return Here(
        snapshot_id=data["snapshot_id"],
        fingerprint=data["fingerprint"],
        packages=packages_of(data),
        captured_at=datetime.now(timezone.utc),
        hostname=(data.get("platform") or {}).get("hostname"),
    )


def wanted(baseline: Snapshot, results: Sequence[NumericResult]) -> List[str]:
    """The probes to compare: those run here, and the baseline's own (user) probes."""
    names = [r.name for r in results]
    names += [r.name for r in baseline.numerics or [] if r.kind == "user" and r.name not in names]
    return names


def compare(
    baseline: Snapshot, results: Sequence[NumericResult], env: Optional[Here] = None
) -> List[ProbeComparison]:
    """Each wanted probe, the baseline's record against this run's."""
    from .compare import compare_all, packages_of

    if baseline.numerics is None:
        raise BadInput(
            f"baseline {baseline.snapshot_id[:12]} has no probe outputs; record them with "
            "`envparity snapshot --probes MODULE` (or --numerics) in the baseline environment"
        )
    return compare_all(
        baseline.numerics,
        list(results),
        base_packages=packages_of(baseline),
        cand_packages=env.packages if env else None,
        only=wanted(baseline, results),
    )


def report(
    baseline: Snapshot,
    comparisons: Sequence[ProbeComparison],
    env: Here,
    policy: Policy,
    *,
    baseline_ref: str,
) -> DriftReport:
    """A :class:`~envparity.model.DriftReport` of the probes' findings alone."""
    from ..comparison import snapshot_data, sort_key
    from ..drift.engine import summary
    from ..drift.severity import SEVERITIES, reaches, verdict_of
    from ..model import DriftReport, Finding, SnapshotSummary

    findings = []
    for pc in comparisons:
        if pc.severity is None:
            continue
        kept = policy.apply(Finding(**pc.finding()))
        if kept is not None:
            findings.append(kept)
    findings.sort(key=sort_key)
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    verdict = verdict_of(counts)
    return DriftReport(
        baseline=SnapshotSummary(**summary(snapshot_data(baseline), baseline_ref)),
        candidate=SnapshotSummary(
            ref="this environment",
            snapshot_id=env.snapshot_id,
            fingerprint=env.fingerprint,
            captured_at=env.captured_at,
            hostname=env.hostname,
        ),
        verdict=verdict,  # type: ignore[arg-type]
        fail_on=policy.fail_on,
        failed=reaches(verdict, policy.fail_on),
        counts=counts,
        findings=findings,
    )


def run_here(modules: Sequence[str], numerics: Optional[bool], baseline: Snapshot) -> Any:
    """Import ``modules`` and run the registered probes (and the built-in ones when asked, or,
    by default, when the baseline recorded them)."""
    from ..bench import registry
    from ..bench.numerics import run_numerics
    from .loading import import_probes

    import_probes(modules)
    if numerics is None:
        numerics = any(r.kind != "user" for r in baseline.numerics or [])
    if not numerics and not registry.probes():
        raise BadInput(
            "no probes to run: give --probes MODULE (a module that calls "
            "envparity.register_probe), list them in [tool.envparity] probes, or --numerics"
        )
    return run_numerics(builtin=numerics)
