"""A Grafana dashboard (JSON) over the metrics ``envparity fleet --format openmetrics`` exports.

Panels: environments per label value (``model`` by default), drift findings by severity,
environments whose drift reaches fail-on (what a start-up hook with ``--on-drift fail`` refuses),
environments not compared, sightings, time since last seen, and the spool backlog. Every query
names a metric family of :mod:`.openmetrics`; a test checks it against the real output.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

__all__ = ["dashboard", "render"]

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    pid: int, title: str, exprs: Sequence[str], legend: str, kind: str, x: int, y: int,
    description: str, unit: str = "short",
) -> Dict[str, Any]:
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": _DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
             "datasource": _DATASOURCE}
            for i, expr in enumerate(exprs)
        ],
    }


def dashboard(keys: Sequence[str] = ("model",)) -> Dict[str, Any]:
    """The dashboard as data; ``keys`` are the snapshot labels exported as metric labels (the
    first groups the per-model panels, each is a template variable to filter by)."""
    by = ", ".join(keys) if keys else ""
    first = keys[0] if keys else ""
    selector = ",".join(f'{k}=~"${k}"' for k in keys)
    sel = "{" + selector + "}" if selector else ""
    group = f" by ({by})" if by else ""
    legend = "{{" + first + "}}" if first else "all"
    panels: List[Dict[str, Any]] = [
        _panel(1, f"Environments per {first or 'fleet'}",
               [f"count{group} (envparity_sightings{sel})"], legend, "timeseries", 0, 0,
               "Distinct environments (fingerprint and role) seen."),
        _panel(2, "Drift findings by severity",
               [f"sum by (severity) (envparity_drift_findings{sel})"], "{{severity}}",
               "timeseries", 12, 0, "Findings against the baseline, summed over environments."),
        _panel(3, "Environments at fail-on (refused by --on-drift fail)",
               [f"count{group} (envparity_drift_failed{sel} == 1)"], legend, "timeseries", 0, 8,
               "Environments whose drift reaches the policy's fail-on: a start-up hook with "
               "--on-drift fail refuses to start them."),
        _panel(4, "Spool backlog",
               ["sum by (host) (envparity_spool_backlog)"], "{{host}}", "timeseries",
               12, 8, "Snapshots waiting in a host's spool for the store: run `envparity db "
               "flush` there."),
        _panel(5, f"Worst drift per {first or 'fleet'}",
               [f"max{group} (envparity_drift_severity{sel})"], legend, "stat", 0, 16,
               "0 none, 1 info, 2 warning, 3 error."),
        _panel(6, "Environments not compared",
               [f"sum{group} (envparity_drift_not_compared{sel})"], legend, "stat", 12, 16,
               "Environments the baseline could not be compared with (see `envparity fleet`)."),
        _panel(7, f"Sightings per {first or 'fleet'}",
               [f"sum{group} (envparity_sightings{sel})"], legend, "timeseries", 0, 24,
               "Snapshots taken: container or process starts."),
        _panel(8, "Time since last seen",
               [f"time() - max{group} (envparity_last_seen_timestamp_seconds{sel})"], legend,
               "stat", 12, 24, "How long ago an environment was last seen.", unit="s"),
    ]
    variables: List[Dict[str, Any]] = [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
    ]
    variables += [
        {
            "name": key,
            "type": "query",
            "datasource": _DATASOURCE,
            "query": f"label_values(envparity_sightings, {key})",
            "includeAll": True,
            "multi": True,
            "allValue": ".*",
            "current": {"text": "All", "value": "$__all"},
            "refresh": 2,
        }
        for key in keys
    ]
    return {
        "title": "envparity fleet",
        "uid": "envparity-fleet",
        "tags": ["envparity"],
        "schemaVersion": 39,
        "editable": True,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "5m",
        "templating": {"list": variables},
        "panels": panels,
    }


def render(keys: Sequence[str] = ("model",)) -> str:
    """The dashboard as JSON text (sorted keys, two-space indent), ready to import."""
    return json.dumps(dashboard(keys), indent=2, sort_keys=True) + "\n"
