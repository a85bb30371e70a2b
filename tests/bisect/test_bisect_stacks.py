"""``envparity bisect`` on the pinned real stacks (docs/design.md, "Real stacks for tests"): real
NumPy/SciPy/pandas/scikit-learn wheels from the package index, overlays built from them.

Neither stack is ever installed into: overlays live in the bisect's temporary directory, and the
tests check that the stacks' own files are untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from _stacks import cache_root
from _support import REPO, Venv

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow

PROBES = '''
import datetime
import envparity

EPOCHS = (1700000000, 1700050000, 1700090000)  # late evening UTC: the next day in Tokyo


def nep50(_):
    # NEP 50: a float64 NumPy scalar is no longer demoted to the array's float32 (NumPy 2).
    import numpy as np

    return np.array([0.1, 0.2, 0.3], dtype=np.float32) * np.float64(1 / 3)


def local_dates(_):
    return [datetime.datetime.fromtimestamp(t).day for t in EPOCHS]


envparity.register_probe("nep50", nep50, None)
envparity.register_probe("local_dates", local_dates, None)
'''

SCIPY_PROBE = '''
import envparity


def special(_):
    import numpy as np
    import scipy.special

    x = np.array([0.1, 0.2, 0.3], dtype=np.float32) * np.float64(1 / 3)
    return scipy.special.expit(x)


envparity.register_probe("special", special, None)
'''


def _env(tz: str, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.pop("PYTHONPATH", None)
    env["TZ"] = tz
    # Downloaded wheels are cached across test runs, outside the user's own cache.
    env["XDG_CACHE_HOME"] = str(cache_root() / "bisect-cache")
    env.update(extra)
    return env


def _baseline(python: Path, work: Path, out: Path, tz: str) -> None:
    done = subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(python), str(out), "myprobes"],
        cwd=work, env=_env(tz, PYTHONPATH=str(REPO)), capture_output=True, text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _bisect(baseline: Path, python: Path, work: Path, tz: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "bisect", str(baseline), "--python", str(python),
         "--probes", "myprobes", "--format", "json", *args],
        cwd=work, env=_env(tz), capture_output=True, text=True, check=False, timeout=900,
    )
    if "Could not find a version" in done.stdout + done.stderr and "numpy" in done.stdout:
        pytest.skip("package index not reachable for the overlays")
    assert done.returncode == 0, (done.returncode, done.stderr, done.stdout[-3000:])
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _symptom(report: dict, name: str) -> dict:
    return next(s for s in report["symptoms"] if s["name"] == name)


def _untouched(venv: Venv, version: str) -> None:
    files = list(venv.site_packages.glob("numpy-*.dist-info"))
    assert [f.name for f in files] == [f"numpy-{version}.dist-info"]


def test_numpy_causes_the_nep50_probe_and_tz_the_dates(
    stack_np1: Venv, stack_np2: Venv, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "myprobes.py").write_text(PROBES)
    baseline = tmp_path / "baseline.json"
    _baseline(stack_np1.python, work, baseline, tz="UTC")
    report = _bisect(baseline, stack_np2.python, work, "Asia/Tokyo")

    assert report["outcome"] == "cause_found"
    kinds = {d["key"]: d["kind"] for d in report["differences"]}
    for package in ("numpy", "scipy", "pandas", "scikit-learn"):
        assert kinds[package] == "overlay", report["differences"]
    assert kinds["TZ"] == "env"

    nep50 = _symptom(report, "nep50")
    assert [c["keys"] for c in nep50["causes"]] == [["numpy"]]
    assert "float32" in nep50["before"] and "float64" in nep50["before"]
    assert {"scipy", "pandas", "scikit-learn", "TZ"} <= set(nep50["not_needed"])

    dates = _symptom(report, "local_dates")
    assert [c["keys"] for c in dates["causes"]] == [["TZ"]]
    assert {"numpy", "scipy", "pandas", "scikit-learn"} <= set(dates["not_needed"])

    # logarithmic: the first trial, everything restored, and a few per halving
    assert len(report["trials"]) <= 2 + 2 * (2 * 3 + 1)
    _untouched(stack_np1, "1.26.4")
    _untouched(stack_np2, "2.2.6")


def test_numpy_overlay_under_an_older_scipy_is_retried_with_scipy(
    stack_np1: Venv, stack_np2: Venv, tmp_path: Path
) -> None:
    # Baseline NumPy 2 + SciPy 1.15; candidate NumPy 1.26 + SciPy 1.11 (built for NumPy 1).
    # Restoring NumPy 2 alone breaks `import scipy.special`: retried with SciPy restored too.
    work = tmp_path / "work"
    work.mkdir()
    (work / "myprobes.py").write_text(SCIPY_PROBE)
    baseline = tmp_path / "baseline.json"
    _baseline(stack_np2.python, work, baseline, tz="UTC")
    report = _bisect(baseline, stack_np1.python, work, "UTC")
    special = _symptom(report, "special")
    causes: List[dict] = special["causes"]
    assert causes, special
    assert any("numpy" in c["keys"] for c in causes), causes
    numpy_cause = next(c for c in causes if "numpy" in c["keys"])
    assert "scipy" in numpy_cause["keys"] + numpy_cause["restored_with"]
    retried = [t for t in report["trials"] if "retried with its dependents" in t["detail"]]
    assert retried, [t["detail"] for t in report["trials"]]
    assert "scipy==1.15.3" in retried[0]["detail"]
    _untouched(stack_np1, "1.26.4")


def test_benchmark_symptom_names_openblas_num_threads(stack_np1: Venv, tmp_path: Path) -> None:
    # The CPU of the test machine is shared: on a busy machine a two-thread GEMM is no faster
    # than a one-thread one, and there is no symptom to bisect (exit 4): skipped, with why.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: a BLAS thread count cannot change GEMM time here")
    work = tmp_path / "work"
    work.mkdir()
    baseline = tmp_path / "baseline.json"
    done = subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(stack_np1.python), str(baseline)],
        cwd=work, env=_env("UTC", PYTHONPATH=str(REPO)), capture_output=True, text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    env = _env("Europe/Paris", OPENBLAS_NUM_THREADS="1", MKL_CBWR="AUTO")
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "bisect", str(baseline), "--python",
         str(stack_np1.python), "--bench", "numpy_gemm_f32", "--format", "json"],
        cwd=work, env=env, capture_output=True, text=True, check=False, timeout=900,
    )
    report = json.loads(done.stdout)
    if done.returncode == 4:
        pytest.skip(
            "GEMM with OpenBLAS's default threads did not time differently from one thread: "
            f"the shared CPU is too busy to tell ({report['symptoms'][0]['before']})"
        )
    if done.returncode == 1 and "unstable" in done.stdout:
        # Contention made the trials unmeasurable: bisect says so rather than name noise.
        pytest.skip("the shared CPU was too busy during the trials (unstable): no cause named")
    assert done.returncode == 0, (done.stderr, done.stdout[:6000])
    assert any("interleaved" in n for n in report["notes"]), report["notes"]
    gemm = _symptom(report, "numpy_gemm_f32")
    assert [c["keys"] for c in gemm["causes"]] == [["OPENBLAS_NUM_THREADS"]], gemm
    # One thread is slower on a quiet machine; on a busy one it can be the faster (no thread
    # fighting a neighbour for the second core): either way the time differs, and it is named.
    assert gemm["ratio_before"] > 1.05 or gemm["ratio_before"] < 1 / 1.05
    assert {"MKL_CBWR", "TZ"} <= set(gemm["not_needed"])
