"""The hook's one call into the drift engine: plain snapshot data in, a report out.

Everything else on the start-up path (capture, the SQLite store, the baseline cache) works on
plain JSON data and imports no pydantic. This function is the single place that turns the two
snapshots into what the drift engine takes, so moving the hook onto a plain-data engine changes
this function alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

if TYPE_CHECKING:
    from ..model import DriftReport


def compare(
    baseline: Dict[str, Any],
    candidate: Dict[str, Any],
    *,
    policy_path: Optional[str],
    fail_on: Optional[str],
    baseline_ref: str,
    problems: List[str],
) -> DriftReport:
    """The drift report of ``candidate`` against ``baseline`` (both snapshot JSON data).

    A policy that cannot be read is one line in ``problems`` and the default policy is used.
    """
    from ..collect.capture import to_snapshot
    from ..diff import diff
    from ..errors import EnvparityError
    from ..model import Snapshot
    from ..policy import Policy, load_policy

    try:
        policy = load_policy(policy_path)
    except EnvparityError as e:
        problems.append(f"policy: {e} (using the default policy)")
        policy = Policy.model_validate({})
    if fail_on:
        policy = policy.model_copy(update={"fail_on": fail_on})
    base = Snapshot.model_validate(baseline)
    cand = to_snapshot(candidate)
    return diff(base, cand, policy, baseline_ref=baseline_ref, candidate_ref=cand.snapshot_id)
