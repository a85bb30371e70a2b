"""`envparity snapshot` from the command line: outputs, bad input, containers without $HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from envparity.cli import app
from envparity.model import Snapshot

runner = CliRunner()


def test_writes_a_valid_snapshot_file(tmp_path):
    out = tmp_path / "snapshot.json"
    result = runner.invoke(
        app,
        ["snapshot", "--no-store", "--role", "training", "--label", "model=fraud", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    snap = Snapshot.model_validate_json(out.read_text())
    assert (snap.role, snap.labels) == ("training", {"model": "fraud"})
    assert snap.fingerprint in result.output or snap.fingerprint[:12] in result.output


def test_json_to_stdout(tmp_path):
    result = runner.invoke(app, ["snapshot", "--no-store", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema_version"] == 3


def test_malformed_label_is_exit_2_with_one_line(tmp_path):
    result = runner.invoke(app, ["snapshot", "--no-store", "--label", "nokey"])
    assert result.exit_code == 2
    assert "--label 'nokey': expected KEY=VALUE" in result.output
    assert "Traceback" not in result.output


def test_output_into_a_missing_directory_writes_nothing(tmp_path):
    target = tmp_path / "missing" / "snap.json"
    result = runner.invoke(app, ["snapshot", "--no-store", "-o", str(target)])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (tmp_path / "missing").exists()


def test_output_never_half_written(tmp_path, monkeypatch):
    target = tmp_path / "snap.json"
    target.write_text("previous good content")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    result = runner.invoke(app, ["snapshot", "--no-store", "-o", str(target)])
    assert result.exit_code == 2
    assert "No space left" in result.output
    assert target.read_text() == "previous good content"
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]  # no temp file left behind


def test_python_that_is_not_an_interpreter(tmp_path):
    script = tmp_path / "notpython"
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    cases = {
        str(tmp_path / "nope"): "no such file",
        str(tmp_path): "no such file",
        str(script): "not a working Python interpreter",
    }
    for python, why in cases.items():
        result = runner.invoke(app, ["snapshot", "--no-store", "--python", python])
        assert result.exit_code == 2, python
        assert f"--python {python}: {why}" in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_runs_with_no_home_in_a_real_child_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "ENVPARITY_HOME")}
    result = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", "-o", "s.json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Snapshot.model_validate_json((tmp_path / "s.json").read_text()).packages


def test_import_envparity_stays_light():
    heavy = ["sqlalchemy", "typer", "rich", "numpy", "torch", "alembic", "click", "pydantic"]
    code = (
        "import sys, envparity, json;"
        "envparity.record_seed('x', 1);"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_output_file_gets_ordinary_permissions(tmp_path):
    # The temporary file behind the atomic write is private; the user's file must not be.
    old = os.umask(0o022)
    try:
        target = tmp_path / "snap.json"
        assert runner.invoke(app, ["snapshot", "--no-store", "-o", str(target)]).exit_code == 0
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)  # an existing file keeps the mode its owner chose
        assert runner.invoke(app, ["snapshot", "--no-store", "-o", str(target)]).exit_code == 0
        assert target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
