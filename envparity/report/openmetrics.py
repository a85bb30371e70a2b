"""The fleet as OpenMetrics text, for a node-exporter textfile collector or a scrape.

One set of gauges per environment (fingerprint) and role: sightings, hosts, when it was last
seen, and against a baseline the worst drift severity (0 none, 1 info, 2 warning, 3 error) and
the findings per severity. Label values are escaped as the exposition format requires
(backslash, double quote, newline); the text ends with ``# EOF``. The start-up hook writes the
same metrics for its one container (:func:`container_metrics`), so a textfile collector on each
node needs no envparity query.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ..drift.severity import RANK, SEVERITIES
from .escape import openmetrics_label

if TYPE_CHECKING:
    from ..fleet import FleetGroup, FleetView
    from ..model import DriftReport, Snapshot

SEVERITY_VALUE = RANK  # none 0, info 1, warning 2, error 3

# name -> help; every metric is a gauge, and each family is written once, in this order.
_FAMILIES: Tuple[Tuple[str, str], ...] = (
    ("envparity_fleet_environments", "Distinct environments (fingerprints) in the view."),
    ("envparity_sightings", "Snapshots taken of this environment: container or process starts."),
    ("envparity_hosts", "Distinct hosts this environment was seen on."),
    ("envparity_last_seen_timestamp_seconds", "When this environment was last seen (Unix time)."),
    (
        "envparity_drift_severity",
        "Worst drift against the baseline: 0 none, 1 info, 2 warning, 3 error.",
    ),
    ("envparity_drift_failed", "1 when the drift reaches the policy's fail-on, else 0."),
    ("envparity_drift_findings", "Drift findings against the baseline, per severity."),
    ("envparity_drift_not_compared", "1 when this environment could not be compared."),
)


escape = openmetrics_label


def _labels(pairs: Dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(view: FleetView) -> str:
    """``view`` as OpenMetrics text."""
    samples: Dict[str, List[str]] = {name: [] for name, _ in _FAMILIES}

    def add(name: str, labels: Dict[str, str], value: float) -> None:
        samples[name].append(f"{name}{_labels(labels)} {_number(value)}")

    scope = {"role": view.role or ""}
    if view.baseline is not None:
        scope["baseline"] = view.baseline.ref
    add("envparity_fleet_environments", scope, view.environments)
    for group in view.groups:
        _group(group, view, add)
    lines: List[str] = []
    for name, help_text in _FAMILIES:
        if not samples[name]:
            continue
        lines += [f"# TYPE {name} gauge", f"# HELP {name} {help_text}"]
        lines += samples[name]
    return "\n".join(lines + ["# EOF"]) + "\n"


def _group(group: FleetGroup, view: FleetView, add: object) -> None:
    from typing import Any, cast

    put = cast(Any, add)
    role = getattr(group, "role", None) or view.role or ""
    labels = {"fingerprint": group.fingerprint, "role": role}
    put("envparity_sightings", labels, group.sightings)
    put("envparity_hosts", labels, group.hosts)
    put("envparity_last_seen_timestamp_seconds", labels, _timestamp(group.last_seen))
    if view.baseline is None:
        return
    against = {**labels, "baseline": view.baseline.ref}
    if group.problem:
        put("envparity_drift_not_compared", against, 1)
        return
    put("envparity_drift_not_compared", against, 0)
    if group.verdict is not None:
        put("envparity_drift_severity", against, SEVERITY_VALUE[group.verdict])
        put("envparity_drift_failed", against, 1 if group.failed else 0)
        for severity in reversed(SEVERITIES):
            put(
                "envparity_drift_findings",
                {**against, "severity": severity},
                group.counts.get(severity, 0),
            )


def _timestamp(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def container_metrics(
    snapshot: Snapshot, report: Optional[DriftReport], baseline_ref: Optional[str]
) -> str:
    """The same metrics for one container: one sighting of ``snapshot``, compared or not."""
    from ..fleet import FleetBaseline, FleetGroup, FleetView

    fields = {}
    if report is not None:
        fields = {"verdict": report.verdict, "failed": report.failed, "counts": report.counts}
    group = FleetGroup(
        fingerprint=snapshot.fingerprint,
        sightings=1,
        hosts=1,
        first_seen=snapshot.captured_at,
        last_seen=snapshot.captured_at,
        latest_snapshot_id=snapshot.snapshot_id,
        problem=None if report is not None or not baseline_ref else "not compared",
        **fields,  # type: ignore[arg-type]
    )
    baseline = None
    if baseline_ref:
        baseline = FleetBaseline(
            ref=baseline_ref,
            snapshot_id=report.baseline.snapshot_id if report is not None else "",
            fingerprint=report.baseline.fingerprint if report is not None else "",
        )
    return render(
        FleetView(
            baseline=baseline,
            role=snapshot.role or None,
            environments=1,
            sightings=1,
            groups=[group],
        )
    )


def write_container_metrics(
    path: str, snapshot: Snapshot, report: Optional[DriftReport], baseline_ref: Optional[str]
) -> Optional[str]:
    """Write :func:`container_metrics` to ``path`` atomically (as a textfile collector needs);
    returns why it could not, else None. Never raises: metrics must not stop a server."""
    from ..writer import write_output

    try:
        text = container_metrics(snapshot, report, baseline_ref)
        write_output(path, text.encode("utf-8"), mode=0o644)
    except OSError as e:
        return f"metrics file {path}: cannot write ({e.strerror or e}); nothing written"
    except Exception as e:
        return f"metrics file {path}: {e}"
    return None
