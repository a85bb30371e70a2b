"""The fleet HTML: role, labels, first and last seen per environment, and its drift against the
baseline behind a <details>; the Grafana recipe's queries name metrics the fleet exports. Real
SQLite stores in a temp directory, the real CLI."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List

import pytest
from typer.testing import CliRunner

from envparity.cli import app
from envparity.model import Collection, Package, PythonInfo, Snapshot

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _snap(sid: str, packages: Dict[str, str], *, role: str, labels: Dict[str, str],
          at: datetime) -> Snapshot:
    return Snapshot(
        snapshot_id=sid,
        captured_at=at,
        role=role,
        labels=labels,
        packages=[Package(name=n, version=v) for n, v in packages.items()],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


@pytest.fixture
def fleet_store(tmp_path: Path):
    """A store with the baseline's environment seen twice and a drifted one seen once, each
    labelled; and the training baseline as a file."""
    from envparity.store import open_store

    base = {"numpy": "1.26.4", "scikit-learn": "1.5.0"}
    drifted = {"numpy": "2.0.0", "scikit-learn": "1.5.0"}
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    with open_store(url) as store:
        store.save(_snap("1" * 32, base, role="serving", labels={"model": "fraud"},
                         at=NOW - timedelta(days=2)))
        store.save(_snap("2" * 32, base, role="serving", labels={"model": "fraud"}, at=NOW))
        store.save(_snap("3" * 32, drifted, role="serving",
                         labels={"model": "fraud", "team": "risk"}, at=NOW - timedelta(hours=1)))
    baseline = tmp_path / "train.json"
    baseline.write_text(
        _snap("9" * 32, base, role="training", labels={"model": "fraud"}, at=NOW).model_dump_json()
    )
    return url, baseline


class _Cells(HTMLParser):
    """Rows of the page's fleet table as lists of cell texts, and the <details> texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: List[List[str]] = []
        self.details: List[str] = []
        self._depth = 0  # inside <details>
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self._depth += 1
            self.details.append("")
        elif tag == "tr" and not self._depth:
            self.rows.append([])
        elif tag in ("td", "th") and not self._depth:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "details":
            self._depth -= 1
        elif tag in ("td", "th") and not self._depth and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._depth:
            self.details[-1] += data
        elif self._cell is not None:
            self._cell += data


def test_fleet_html_shows_role_labels_seen_and_each_environments_drift(fleet_store) -> None:
    url, baseline = fleet_store
    done = CliRunner().invoke(
        app, ["fleet", "--db", url, "--baseline", str(baseline), "--format", "html"]
    )
    assert done.exit_code == 0, done.output
    page = _Cells()
    page.feed(done.stdout)
    header, *rows = [r for r in page.rows if r]
    assert header[:2] == ["role", "labels"] and "first seen" in header and "last seen" in header
    table = [dict(zip(header, r)) for r in rows if len(r) == len(header)]
    assert [r["role"] for r in table] == ["serving", "serving"]
    worst, same = table  # worst first
    assert worst["labels"] == "model=fraud team=risk" and worst["drift"].startswith("error")
    assert same["labels"] == "model=fraud" and same["drift"] == "none"
    assert same["first seen"] == "2026-02-27 12:00:00Z"
    assert same["last seen"] == "2026-03-01 12:00:00Z"
    # The drifted environment's findings open under its row; the same one has none to show.
    (details,) = page.details
    assert details.startswith("1 finding against the baseline")
    assert "package:numpy" in details and "1.26.4" in details and "2.0.0" in details
    assert re.search(r"<details><summary>", done.stdout)


def _families(text: str) -> Dict[str, List]:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_openmetrics_carry_the_chosen_snapshot_labels(fleet_store, tmp_path) -> None:
    url, baseline = fleet_store
    env = {"ENVPARITY_HOME": str(tmp_path / "home")}
    args = ["fleet", "--db", url, "--baseline", str(baseline), "-f", "openmetrics"]
    default = CliRunner().invoke(app, args, env=env)
    assert default.exit_code == 0, default.output
    families = _families(default.stdout)
    sightings = families["envparity_sightings"]
    assert {s.labels["model"] for s in sightings} == {"fraud"}  # model by default
    assert all("team" not in s.labels for s in sightings)
    # Two keys from the variable; a key a snapshot lacks is no label (Prometheus reads "" so).
    both = CliRunner().invoke(app, args, env={**env, "ENVPARITY_METRIC_LABELS": "model,team"})
    teams = {s.labels["fingerprint"][:4]: s.labels.get("team", "")
             for s in _families(both.stdout)["envparity_sightings"]}
    assert sorted(teams.values()) == ["", "risk"]
    # The option wins over the variable; a bad key is one line, exit 2.
    only = CliRunner().invoke(app, [*args, "--metric-label", "team"],
                              env={**env, "ENVPARITY_METRIC_LABELS": "model"})
    assert all("model" not in s.labels for s in _families(only.stdout)["envparity_sightings"])
    for bad in ("team-name", "role"):
        refused = CliRunner().invoke(app, [*args, "--metric-label", bad], env=env)
        assert refused.exit_code == 2 and f"--metric-label {bad!r}" in refused.output
        assert "Traceback" not in refused.output


def test_every_grafana_query_names_a_metric_the_fleet_exports(fleet_store, tmp_path) -> None:
    import json

    url, baseline = fleet_store
    env = {"ENVPARITY_HOME": str(tmp_path / "home"), "ENVPARITY_METRIC_LABELS": "model,team"}
    metrics = CliRunner().invoke(
        app, ["fleet", "--db", url, "--baseline", str(baseline), "-f", "openmetrics"], env=env
    )
    assert metrics.exit_code == 0, metrics.output
    families = _families(metrics.stdout)
    recipe = CliRunner().invoke(app, ["recipe", "grafana"], env=env)
    assert recipe.exit_code == 0, recipe.output
    dashboard = json.loads(recipe.stdout)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for asked in ("environments per model", "severity", "refused", "spool backlog"):
        assert asked in titles, asked
    assert exprs
    for expr in exprs:
        named = set(re.findall(r"\benvparity_[a-z_]+", expr))
        assert named and named <= set(families), (expr, sorted(families))
        # Each label a query groups or filters by is one the metrics carry.
        for label in re.findall(r"by \(([^)]*)\)", expr):
            for key in (k.strip() for k in label.split(",")):
                assert any(key in s.labels for n in named for s in families[n]), (key, expr)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"model", "team"} <= variables


def test_the_hooks_own_metrics_carry_the_model_label(tmp_path) -> None:
    import os
    import subprocess
    import sys

    base = tmp_path / "train.json"
    base.write_text(_snap("9" * 32, {"numpy": "0.0.1"}, role="training",
                          labels={"model": "fraud"}, at=NOW).model_dump_json())
    metrics = tmp_path / "container.prom"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(ENVPARITY_HOME=str(tmp_path / "home"), ENVPARITY_METRICS_FILE=str(metrics),
               ENVPARITY_LABELS="model=fraud,team=risk", ENVPARITY_METRIC_LABELS="model")
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--baseline", str(base), "--budget", "60",
         "--", sys.executable, "-c", "pass"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sightings = _families(metrics.read_text())["envparity_sightings"]
    assert [(s.labels.get("model"), "team" in s.labels) for s in sightings] == [("fraud", False)]
