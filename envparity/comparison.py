"""Drift between two snapshots: the pydantic face of the engine in ``envparity.drift``.

``compare(baseline, candidate, policy)`` (public as ``envparity.compare``) is pure: no I/O,
no clock. It compares only identity fields (instance-only values such as hostname, pid, paths,
UUIDs and times never make findings), so two snapshots of the same environment give no findings.
The rules, the grouping by root cause and the verdict live in :mod:`envparity.drift`, on plain
JSON data; this module wraps the result in a :class:`~envparity.model.DriftReport`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

from .drift.engine import compare as engine_compare
from .drift.severity import reaches
from .model import DriftReport, Finding, Snapshot
from .policy import Policy

__all__ = ["compare", "reaches", "sort_key", "snapshot_data"]


def snapshot_data(snapshot: Union[Snapshot, Dict[str, Any]]) -> Dict[str, Any]:
    """A snapshot as the engine's plain data (a dict passes through).

    Defaults are left out (the engine reads absent as the default, as the fingerprint does), and
    packages, whose fields are all JSON scalars, are read from the models' own field dicts
    (never modified): thousands of packages cost no serialization.
    """
    if isinstance(snapshot, dict):
        return snapshot
    data = snapshot.model_dump(exclude={"packages", "shadowed"}, exclude_defaults=True)
    data["packages"] = [vars(p) for p in snapshot.packages]
    data["shadowed"] = [vars(p) for p in snapshot.shadowed]
    return data


def sort_key(finding: Finding) -> Tuple[int, int, str]:
    """Errors first, then by category (in the design's order), then by key."""
    from .drift.engine import sort_key as plain

    return plain({"severity": finding.severity, "category": finding.category, "key": finding.key})


def compare(
    baseline: Union[Snapshot, Dict[str, Any]],
    candidate: Union[Snapshot, Dict[str, Any]],
    policy: Optional[Policy] = None,
    *,
    baseline_ref: str = "",
    candidate_ref: str = "",
) -> DriftReport:
    """Every difference between ``baseline`` and ``candidate`` that can change a model's results.

    Only identity fields are compared: two snapshots of the same environment give no findings.
    The policy (default: fail on error) ignores or re-grades findings and sets ``fail_on``.
    """
    data = engine_compare(
        snapshot_data(baseline),
        snapshot_data(candidate),
        policy or Policy(),
        baseline_ref=baseline_ref,
        candidate_ref=candidate_ref,
    )
    return DriftReport.model_validate(data)
