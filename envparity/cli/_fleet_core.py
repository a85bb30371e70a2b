"""What ``envparity fleet`` does once its options are parsed, without Typer.

The Typer command (:mod:`.run`) and the fast path (:mod:`._lean`) both call :func:`fleet_command`.
"""

import os
import sys
from typing import Any, Dict, List, Optional

from ._out import parse_labels, write_atomic


def fleet_command(
    *,
    baseline: Optional[str],
    role: Optional[str],
    labels: Optional[List[str]],
    since: Optional[str],
    fmt: str,
    output: Optional[str],
    metric_labels: Optional[List[str]],
    policy: Optional[str],
    db: Optional[str],
) -> None:
    """Sightings grouped by environment, compared with ``baseline``, written in ``fmt``."""
    from ..fleet import fleet_view, parse_since
    from ..refs import is_file_ref, load_file
    from ..report.fleet import render_fleet
    from ..report.openmetrics import metric_label_keys
    from ..store import open_reader

    keys = metric_label_keys(metric_labels, os.environ)
    wanted = parse_labels(labels)
    moment = parse_since(since) if since else None
    policy_obj = None
    if baseline:
        from ..policy import load_policy

        policy_obj = load_policy(policy)
    with open_reader(db) as store:
        base = None
        if baseline:
            base = load_file(baseline) if is_file_ref(baseline) else store.resolve(baseline)
        view = fleet_view(
            store,
            base,
            baseline_ref=baseline or "",
            role=role,
            labels=wanted,
            since=moment,
            policy=policy_obj,
            by_role=fmt == "openmetrics",  # metrics are labelled by fingerprint and role
        )
        details = _details(store, view, base, policy_obj) if fmt == "html" else None
        by_group = _metric_labels(store, view, keys) if fmt == "openmetrics" else None
    if by_group is not None:
        from ..hook.spool import spooled
        from ..report.openmetrics import render as metrics

        text = metrics(view, by_group, spool_backlog=len(spooled(os.environ)))
    else:
        text = render_fleet(view, fmt, details)
    if output and output != "-":
        write_atomic(output, text)
    else:
        sys.stdout.write(text)


def _metric_labels(store: Any, view: Any, keys: Any) -> Dict[str, Dict[str, str]]:
    """Each group's latest snapshot id -> the metric labels taken from that snapshot's labels
    (every key present, "" where the snapshot has none: one label set per metric family). The
    labels come with the sightings' other parts in one query, not from a snapshot loaded per
    group (that was 0.8 s of `fleet --format openmetrics` over 400 groups)."""
    ids = [group.latest_snapshot_id for group in view.groups]
    parts = store.sighting_parts(ids) if keys else {}
    out: Dict[str, Dict[str, str]] = {}
    for sid in ids:
        found = (parts.get(sid) or {}).get("labels") or {}
        out[sid] = {k: str(found.get(k, "")) for k in keys}
    return out


def _details(store: Any, view: Any, baseline: Any, policy: Any) -> Dict[str, Any]:
    """For the HTML view: each environment's labels (its latest sighting's) and its findings
    against the baseline. One snapshot read and one comparison per environment, not per
    sighting."""
    from ..diff import diff
    from ..errors import EnvparityError
    from ..report.fleet import GroupDetail

    details: Dict[str, Any] = {}
    for group in view.groups:
        if group.fingerprint in details:
            continue
        try:
            latest = store.get(group.latest_snapshot_id)
        except EnvparityError:
            continue  # the row says why it was not compared, if it was not
        findings = []
        if baseline is not None and not group.problem and group.verdict not in (None, "none"):
            findings = diff(baseline, latest, policy, baseline_ref=view.baseline.ref).findings
        details[group.fingerprint] = GroupDetail(
            role=latest.role or None, labels=dict(latest.labels), findings=findings
        )
    return details
