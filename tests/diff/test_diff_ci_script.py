"""scripts/ci-drift.sh: the generic CI gate writes every report and exits with the drift's code."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from _support import REPO, run_cli

SCRIPT = REPO / "scripts" / "ci-drift.sh"


def _run(tmp_path, *args, **env):
    full = {
        k: v for k, v in os.environ.items() if not k.startswith(("ENVPARITY_", "PYTHONHASHSEED"))
    }
    full.update(
        ENVPARITY=f"{sys.executable} -m envparity",
        ENVPARITY_HOME=str(tmp_path / "home"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        **env,
    )
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=tmp_path, env=full, capture_output=True, text=True
    )


@pytest.mark.slow
def test_ci_drift_script(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVPARITY_", "PYTHONHASH"))}
    base = run_cli("snapshot", "--no-store", "-o", "base.json", cwd=tmp_path, env=env)
    assert base.returncode == 0, base.stderr

    same = _run(tmp_path, "base.json", "--label", "job=ci")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("envparity: no drift")
    reports = tmp_path / "envparity-report"
    assert sorted(p.name for p in reports.iterdir()) == [
        "drift.html",
        "drift.json",
        "drift.md",
        "drift.xml",
        "snapshot.json",
    ]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("**envparity: no drift**")
    assert summary.count("**envparity:") == 1  # appended once, though diff runs four times

    drift = _run(tmp_path, "base.json", PYTHONHASHSEED="7", GITHUB_ACTIONS="true")
    assert drift.returncode == 1, drift.stderr
    assert any(
        line.startswith("::error title=envparity error%3A determinism%3APYTHONHASHSEED::")
        for line in drift.stdout.splitlines()
    )
    assert "determinism:PYTHONHASHSEED  random -> 7" in drift.stdout
    # The JUnit report and the exit code agree: failures exactly when the gate fails.
    assert int(ET.parse(reports / "drift.xml").getroot().get("failures")) > 0
    assert (
        _run(tmp_path, "base.json", PYTHONHASHSEED="7", ENVPARITY_FAIL_ON="never").returncode == 0
    )
    assert int(ET.parse(reports / "drift.xml").getroot().get("failures")) == 0

    missing = _run(tmp_path, "gone.json")
    assert missing.returncode == 2
    assert "gone.json: no such snapshot file" in missing.stderr
