"""The fleet as OpenMetrics text, for a node-exporter textfile collector or a scrape.

One set of gauges per environment (fingerprint) and role: sightings, hosts, when it was last
seen, and against a baseline the worst drift severity (0 none, 1 info, 2 warning, 3 error) and
the findings per severity. Label values are escaped as the exposition format requires
(backslash, double quote, newline); the text ends with ``# EOF``. The start-up hook writes the
same metrics for its one container (:func:`container_metrics`), so a textfile collector on each
node needs no envparity query.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, cast

from ..drift.severity import RANK, SEVERITIES
from ..errors import BadInput
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
    (
        "envparity_spool_backlog",
        "Snapshots waiting in this host's spool for the store (run `envparity db flush`).",
    ),
)

#: The snapshot labels exported as metric labels unless --metric-label/ENVPARITY_METRIC_LABELS
#: say otherwise.
DEFAULT_METRIC_LABELS = ("model",)
# Labels every series already has: a snapshot label of the same name cannot be one.
_RESERVED = ("fingerprint", "role", "baseline", "severity")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


escape = openmetrics_label


def _labels(pairs: Dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def metric_label_keys(
    keys: Optional[Sequence[str]], environ: Optional[Mapping[str, str]] = None
) -> Tuple[str, ...]:
    """The snapshot label keys to export as metric labels: ``--metric-label`` (repeatable) if
    given, else ``ENVPARITY_METRIC_LABELS`` (``model,team``; empty for none), else ``model``.
    A key that cannot be a Prometheus label name, or is one every series has, is BadInput."""
    if keys:
        source, chosen = "--metric-label", list(keys)
    elif environ is not None and "ENVPARITY_METRIC_LABELS" in environ:
        source = "ENVPARITY_METRIC_LABELS"
        chosen = [k.strip() for k in environ["ENVPARITY_METRIC_LABELS"].split(",") if k.strip()]
    else:
        return DEFAULT_METRIC_LABELS
    for key in chosen:
        if not _LABEL_NAME.match(key) or key.startswith("__"):
            raise BadInput(
                f"{source} {key!r}: not a metric label name; use letters, digits and _ "
                "(not first a digit, not __), e.g. model"
            )
        if key in _RESERVED:
            raise BadInput(
                f"{source} {key!r}: every series already has this label; choose another key "
                f"(reserved: {', '.join(_RESERVED)})"
            )
    return tuple(dict.fromkeys(chosen))


def render(
    view: FleetView,
    group_labels: Optional[Mapping[str, Mapping[str, str]]] = None,
    *,
    spool_backlog: Optional[int] = None,
) -> str:
    """``view`` as OpenMetrics text. ``group_labels`` maps a group's latest snapshot id to the
    metric labels it gets (snapshot labels chosen by :func:`metric_label_keys`; an empty
    value is left out); ``spool_backlog`` is this host's spooled snapshots, when counted."""
    samples: Dict[str, List[str]] = {name: [] for name, _ in _FAMILIES}

    def add(name: str, labels: Dict[str, str], value: float) -> None:
        samples[name].append(f"{name}{_labels(labels)} {_number(value)}")

    scope = {"role": view.role or ""}
    if view.baseline is not None:
        scope["baseline"] = view.baseline.ref
    add("envparity_fleet_environments", scope, view.environments)
    for group in view.groups:
        extra = dict((group_labels or {}).get(group.latest_snapshot_id, {}))
        _group(group, view, add, extra)
    if spool_backlog is not None:
        import socket

        add("envparity_spool_backlog", {"host": socket.gethostname()}, spool_backlog)
    lines: List[str] = []
    for name, help_text in _FAMILIES:
        if not samples[name]:
            continue
        lines += [f"# TYPE {name} gauge", f"# HELP {name} {help_text}"]
        lines += samples[name]
    return "\n".join(lines + ["# EOF"]) + "\n"


def _group(group: FleetGroup, view: FleetView, add: object, extra: Dict[str, str]) -> None:
    put = cast(Any, add)
    role = getattr(group, "role", None) or view.role or ""
    # An empty value is no label to Prometheus: left out, as a snapshot without it has none.
    labels = {"fingerprint": group.fingerprint, "role": role}
    labels.update((k, v) for k, v in extra.items() if v)
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
    import os

    keys = metric_label_keys(None, os.environ)
    extra = {snapshot.snapshot_id: {k: snapshot.labels.get(k, "") for k in keys}}
    return render(
        FleetView(
            baseline=baseline,
            role=snapshot.role or None,
            environments=1,
            sightings=1,
            groups=[group],
        ),
        extra,
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
