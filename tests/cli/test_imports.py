"""``import envparity`` and ``envparity run`` without an ``mlflow:`` ref stay cheap: none of the
optional integrations' libraries (nor Rich) is imported on those paths."""

from __future__ import annotations

import subprocess
import sys

from _support import REPO, importtime_split

HEAVY = ("mlflow", "prometheus_client", "rich", "cyclonedx")


def test_import_envparity_imports_no_integration():
    code = "import sys, envparity; print(sorted({m.split('.')[0] for m in sys.modules}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(REPO), check=True).stdout
    loaded = set(eval(out))  # noqa: S307 - our own repr of a list of names
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_run_without_an_mlflow_ref_imports_no_integration(tmp_path):
    base = tmp_path / "base.json"
    snap = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", "-o", str(base)],
        capture_output=True, text=True, cwd=str(tmp_path),
        env={"PATH": "/usr/bin:/bin", "ENVPARITY_HOME": str(tmp_path / "home"),
             "PYTHONPATH": str(REPO)},
    )
    assert snap.returncode == 0, snap.stderr
    # -X importtime logs each import of the envparity process; exec then starts CMD without it.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "envparity", "run", "--baseline", str(base),
         "--budget", "60", "--", sys.executable, "-c", "print('started')"],
        capture_output=True, text=True, cwd=str(tmp_path),
        env={"PATH": "/usr/bin:/bin", "ENVPARITY_HOME": str(tmp_path / "home"),
             "PYTHONPATH": str(REPO), "ENVPARITY_METRICS_FILE": str(tmp_path / "m.prom")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout
    imported, _ = importtime_split(result.stderr)
    assert "envparity" in imported  # the log was read: the test is not vacuous
    assert not imported & set(HEAVY), imported & set(HEAVY)
