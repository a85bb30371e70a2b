"""``envparity show --format report``: a paste-ready environment report for a bug report, from a
real snapshot of this interpreter taken by a real child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from envparity.model import Snapshot

SECTIONS = ("Python", "OS", "CPU and memory", "GPU and driver", "BLAS", "Threads",
            "Determinism", "Seeds", "Variables")


def _envparity(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    base.update(ENVPARITY_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([sys.executable, "-m", "envparity", *args], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=300)


def test_show_report_has_what_a_bug_report_needs(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    taken = _envparity(
        tmp_path, "snapshot", "--no-store", "-o", str(path), "--label", "model=fraud",
        OMP_NUM_THREADS="3", PYTHONHASHSEED="0",
    )
    assert taken.returncode == 0, taken.stderr
    snap = Snapshot.model_validate_json(path.read_text())
    done = _envparity(tmp_path, "show", str(path), "--format", "report")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for section in SECTIONS:
        assert f"\n== {section} ==\n" in text, section
    assert f"\n== Packages ({len(snap.packages)}) ==\n" in text
    assert f"Python version: {snap.python.implementation} {snap.python.version}" in text
    assert f"Snapshot: {snap.snapshot_id}" in text
    assert "PYTHONHASHSEED 0" in text and "OMP_NUM_THREADS=3" in text
    for pkg in snap.packages:
        assert f"\n{pkg.name}=={pkg.version}\n" in text + "\n"
    for blas in snap.blas:
        assert blas.internal_api in text
    assert f"GPU state: {snap.gpus.state}" in text
    assert "Role and labels: training; model=fraud" in text or "; model=fraud\n" in text
    # --format text is as it was: the report is a format of its own.
    plain = _envparity(tmp_path, "show", str(path))
    assert plain.returncode == 0 and plain.stdout.startswith(f"snapshot     {snap.snapshot_id}\n")
    assert "== Python ==" not in plain.stdout
