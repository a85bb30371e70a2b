"""MLflow: log a snapshot to a run of a real local tracking store, then diff/check/run against
``mlflow:runs:/<id>`` and ``mlflow:models:/<name>/<version>``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from _support import run_cli

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 10), reason="MLflow 3 (envparity[mlflow]) needs Python 3.10+"
)

from datetime import datetime, timezone  # noqa: E402

from envparity.model import Collection, Package, PythonInfo, Snapshot  # noqa: E402


def _snap(numpy: str, snapshot_id: str) -> Snapshot:
    return Snapshot(
        snapshot_id=snapshot_id,
        captured_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
        role="training",
        packages=[Package(name="numpy", version=numpy)],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A real local MLflow tracking store (the file store) and the environment that names it."""
    uri = (tmp_path / "mlruns").as_uri()
    env = {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
        "MLFLOW_ALLOW_FILE_STORE": "true",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENVPARITY_HOME", str(tmp_path / "home"))
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}, **env,
            "ENVPARITY_HOME": str(tmp_path / "home")}


def _run_id() -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.create_experiment("fraud")
    return str(client.create_run(experiment).info.run_id)


def test_log_then_diff_a_run_against_a_file(tracking, tmp_path):
    from mlflow.tracking import MlflowClient

    from envparity.integrations.mlflow import log_snapshot

    run_id = _run_id()
    base = _snap("1.26.4", "a" * 32)
    tags = log_snapshot(base, run_id)
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["envparity.fingerprint"] == base.fingerprint == tags[
        "envparity.fingerprint"
    ]
    assert run.data.tags["envparity.role"] == "training"

    current = tmp_path / "current.json"
    current.write_text(_snap("2.3.5", "c" * 32).model_dump_json())
    result = run_cli("diff", f"mlflow:runs:/{run_id}", str(current), "--format", "json",
                     env=tracking, cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["baseline"]["snapshot_id"] == "a" * 32
    assert [(f["key"], f["baseline"], f["candidate"]) for f in report["findings"]] == [
        ("numpy", "1.26.4", "2.3.5")
    ]


def test_a_registered_model_version_resolves_to_its_runs_snapshot(tracking, tmp_path):
    from mlflow.tracking import MlflowClient

    from envparity.integrations.mlflow import log_snapshot

    run_id = _run_id()
    base = _snap("1.26.4", "a" * 32)
    log_snapshot(base, run_id)
    client = MlflowClient()
    client.create_registered_model("fraud")
    version = client.create_model_version("fraud", f"runs:/{run_id}/model", run_id=run_id)
    same = tmp_path / "same.json"
    same.write_text(base.model_dump_json())
    result = run_cli("diff", f"mlflow:models:/fraud/{version.version}", str(same),
                     env=tracking, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("envparity: no drift")


def test_verdict_tag_against_a_baseline_in_the_active_run(tracking, tmp_path):
    import mlflow

    from envparity.integrations.mlflow import log_snapshot

    baseline = tmp_path / "base.json"
    baseline.write_text(_snap("1.26.4", "a" * 32).model_dump_json())
    with mlflow.start_run() as run:
        tags = log_snapshot(_snap("2.3.5", "c" * 32), baseline=str(baseline))
    assert tags["envparity.verdict"] == "error"  # a major version of numpy
    assert mlflow.get_run(run.info.run_id).data.tags["envparity.verdict"] == "error"


def test_bad_mlflow_refs_are_one_line_errors(tracking, tmp_path):
    run_id = _run_id()  # a run without a snapshot
    other = tmp_path / "x.json"
    other.write_text(_snap("1.26.4", "a" * 32).model_dump_json())
    for ref in (f"mlflow:runs:/{run_id}", "mlflow:runs:/", "mlflow:experiments:/1",
                "mlflow:models:/nosuchmodel/1"):
        result = run_cli("diff", ref, str(other), env=tracking, cwd=str(tmp_path))
        assert result.returncode == 2, (ref, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"envparity: error: {ref}"), lines
        assert "Traceback" not in result.stderr


def test_check_and_run_take_an_mlflow_baseline(tracking, tmp_path):
    from envparity.integrations.mlflow import log_snapshot

    run_id = _run_id()
    log_snapshot(_snap("0.0.1", "a" * 32), run_id)
    ref = f"mlflow:runs:/{run_id}"
    check = run_cli("check", "--baseline", ref, "--format", "json", env=tracking,
                    cwd=str(tmp_path))
    assert check.returncode == 1, check.stderr
    assert json.loads(check.stdout)["baseline"]["snapshot_id"] == "a" * 32

    # Importing MLflow alone takes about a second: give the check the budget for it.
    run = run_cli("run", "--baseline", ref, "--budget", "60", "--", sys.executable, "-c",
                  "print('server started')", env=tracking, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "server started" in run.stdout
    (log,) = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert log["verdict"] == "error" and not log["timed_out"], log
