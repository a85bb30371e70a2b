"""``fleet --format openmetrics`` and the hook's ENVPARITY_METRICS_FILE, parsed back with
prometheus_client's OpenMetrics parser."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from _support import REPO
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from typer.testing import CliRunner

from envparity.fleet import FleetBaseline, FleetGroup, FleetView
from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot
from envparity.report.fleet import render_fleet

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _samples(text: str):
    """{(metric name, frozenset(labels)): value} from OpenMetrics text, via prometheus_client."""
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def test_hostile_label_values_survive_the_round_trip():
    hostile = 'we"ird\\role\nline two'
    ref = 'tag "x"\\y\nz'
    view = FleetView(
        baseline=FleetBaseline(ref=ref, snapshot_id="1" * 32, fingerprint="f" * 64),
        role=hostile,
        environments=1,
        sightings=3,
        groups=[
            FleetGroup(
                fingerprint="a" * 64,
                sightings=3,
                hosts=2,
                first_seen=NOW,
                last_seen=NOW,
                latest_snapshot_id="2" * 32,
                verdict="warning",
                failed=False,
                counts={"error": 0, "warning": 2, "info": 1},
            )
        ],
    )
    text = render_fleet(view, "openmetrics")
    assert text.endswith("# EOF\n")
    got = _samples(text)
    labels = {"fingerprint": "a" * 64, "role": hostile}
    assert got[("envparity_sightings", frozenset(labels.items()))] == 3
    assert got[("envparity_hosts", frozenset(labels.items()))] == 2
    against = {**labels, "baseline": ref}
    assert got[("envparity_drift_severity", frozenset(against.items()))] == 2
    assert got[("envparity_drift_failed", frozenset(against.items()))] == 0
    warnings = frozenset({**against, "severity": "warning"}.items())
    assert got[("envparity_drift_findings", warnings)] == 2
    assert got[("envparity_last_seen_timestamp_seconds", frozenset(labels.items()))] == (
        NOW.timestamp()
    )


def _snap(i: int, role: str, numpy: str, host: str) -> Snapshot:
    return Snapshot(
        snapshot_id=f"{i:032x}",
        captured_at=NOW - timedelta(minutes=i),
        role=role,
        packages=[Package(name="numpy", version=numpy)],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(hostname=host),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


def test_fleet_openmetrics_counts_per_fingerprint_and_role(tmp_path):
    from envparity.cli import app
    from envparity.store import open_store

    db = f"sqlite:///{tmp_path / 'fleet.db'}"
    snaps = [
        _snap(1, "training", "1.26.4", "trainer"),
        _snap(2, "serving", "1.26.4", "node-a"),
        _snap(3, "serving", "1.26.4", "node-b"),
        _snap(4, "serving", "2.3.5", "node-a"),
        _snap(5, "batch", "2.3.5", "node-c"),
    ]
    with open_store(db) as store:
        for s in snaps:
            store.save(s)
        store.tag(snaps[0].snapshot_id, "fraud-train")
    result = CliRunner().invoke(
        app, ["fleet", "--baseline", "fraud-train", "--format", "openmetrics", "--db", db]
    )
    assert result.exit_code == 0, result.output
    got = _samples(result.output)
    same, drifted = snaps[0].fingerprint, snaps[3].fingerprint

    def value(name, **labels):
        return got[(name, frozenset(labels.items()))]

    assert value("envparity_sightings", fingerprint=same, role="serving") == 2
    assert value("envparity_hosts", fingerprint=same, role="serving") == 2
    assert value("envparity_sightings", fingerprint=same, role="training") == 1
    assert value("envparity_sightings", fingerprint=drifted, role="serving") == 1
    assert value("envparity_sightings", fingerprint=drifted, role="batch") == 1
    base = "fraud-train"
    assert value("envparity_drift_severity", fingerprint=same, role="serving", baseline=base) == 0
    assert value("envparity_drift_severity", fingerprint=drifted, role="batch", baseline=base) == 3
    assert value("envparity_drift_findings", fingerprint=drifted, role="serving",
                 baseline=base, severity="error") == 1
    assert value("envparity_fleet_environments", role="", baseline=base) == 2


def test_the_run_hook_writes_one_containers_metrics(tmp_path):
    base = tmp_path / "base.json"
    base.write_text(_snap(1, "training", "0.0.1", "trainer").model_dump_json())
    metrics = tmp_path / "envparity.prom"
    env = {"PATH": "/usr/bin:/bin", "ENVPARITY_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(REPO), "ENVPARITY_METRICS_FILE": str(metrics)}
    result = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--baseline", str(base), "--budget", "60",
         "--", sys.executable, "-c", "print('started')"],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False,
    )
    assert result.returncode == 0, result.stderr
    got = _samples(metrics.read_text())
    (key,) = [k for k in got if k[0] == "envparity_drift_severity"]
    labels = dict(key[1])
    assert labels["role"] == "serving" and labels["baseline"] == str(base)
    assert got[key] == 3  # numpy differs from the baseline's made-up 0.0.1
    assert got[("envparity_sightings", frozenset(
        {"fingerprint": labels["fingerprint"], "role": "serving"}.items()))] == 1
