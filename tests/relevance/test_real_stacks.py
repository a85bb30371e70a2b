"""Issue 24's done-when, on the pinned real stacks: a baseline taken in the training process
after fitting and pickling a scikit-learn model (with ``model=``), diffed against serving in the
other stack. Errors on scikit-learn and numpy name the pickle; installer and certifi upgrades,
missing training-only tools and a package the model never loads are not errors; ``check`` and
``run --on-drift fail`` follow the same verdicts.

Next to each stack's pinned ML packages, a directory of tiny real distributions (installed with
pip from wheels built here) plays the rest of a real image: certifi, pip, setuptools, tzdata, an
unrelated library that jumps a major version, and on the training side pytest and tqdm.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from _stacks import stack_env
from _support import REPO, build_wheel

TRAINING_EXTRAS = [
    ("certifi", "2024.2.2"),
    ("pip", "23.2.1"),
    ("setuptools", "65.0.0"),
    ("tzdata", "2023.3"),
    ("unrelated-lib", "1.4.0"),
    ("pytest", "8.0.0"),
    ("tqdm", "4.66.0"),
]
SERVING_EXTRAS = [
    ("certifi", "2025.1.31"),
    ("pip", "24.0"),
    ("setuptools", "70.0.0"),
    ("tzdata", "2025.2"),
    ("unrelated-lib", "2.0.0"),
]

TRAIN = """
import pickle, sys
import numpy as np
from sklearn.ensemble import RandomForestClassifier
import envparity
X = np.random.RandomState(0).rand(200, 4)
model = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, X[:, 0] > 0.5)
with open("model.pkl", "wb") as f:
    pickle.dump(model, f)
snap = envparity.snapshot(role="training", model="model.pkl")
open(sys.argv[1], "w").write(snap.model_dump_json())
"""


def _extras(root: Path, name: str, dists: List[Tuple[str, str]]) -> Path:
    wheels = root / f"{name}-wheels"
    target = root / name
    built = [build_wheel(wheels, n, v) for n, v in dists]
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--no-index",
         "--no-deps", "--quiet", "--target", str(target), *map(str, built)],
        check=True, capture_output=True, text=True,
    )
    return target


def _env(extras: Path, home: Path, **more: str) -> Dict[str, str]:
    env = stack_env({"ENVPARITY_HOME": str(home), **more})
    env["PYTHONPATH"] = f"{REPO}:{extras}"
    return env


def _run(python: Path, args: List[str], env: Dict[str, str], cwd: Path):
    done = subprocess.run(
        [str(python), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    return done


@pytest.fixture(scope="module")
def pair(tmp_path_factory, stack_np1, stack_np2):
    root = tmp_path_factory.mktemp("relevance")
    work = root / "work"
    work.mkdir()
    train_env = _env(_extras(root, "train", TRAINING_EXTRAS), root / "home")
    serve_env = _env(_extras(root, "serve", SERVING_EXTRAS), root / "home")
    done = _run(stack_np1.python, ["-c", TRAIN, str(work / "training.json")], train_env, work)
    assert done.returncode == 0, done.stderr
    done = _run(
        stack_np2.python,
        ["-m", "envparity", "snapshot", "--no-store", "--role", "serving", "-o",
         str(work / "serving.json")],
        serve_env, work,
    )
    assert done.returncode == 0, done.stderr
    return {"work": work, "serve_env": serve_env, "np2": stack_np2}


def _report(pair, *extra: str) -> Dict:
    work = pair["work"]
    done = _run(
        pair["np2"].python,
        ["-m", "envparity", "diff", str(work / "training.json"), str(work / "serving.json"),
         "--format", "json", *extra],
        pair["serve_env"], work,
    )
    assert done.returncode in (0, 1) and done.stdout, done.stderr
    return json.loads(done.stdout)


def _by_key(report: Dict) -> Dict[str, Dict]:
    return {f"{f['category']}:{f['key']}": f for f in report["findings"]}


def test_training_baseline_records_the_model_and_loaded_distributions(pair):
    data = json.loads((pair["work"] / "training.json").read_text())
    rel = data["relevance"]
    assert {"numpy", "scikit-learn", "scipy"} <= set(rel["loaded"])
    assert "pytest" not in rel["loaded"] and "unrelated-lib" not in rel["loaded"]
    (model,) = rel["models"]
    assert model["path"] == "model.pkl" and model["kind"] == "pickle"
    assert len(model["sha256"]) == 64 and model["size"] > 0
    assert model["needs"]["scikit-learn"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert "numpy" in model["needs"]


def test_errors_name_the_pickle_and_nothing_unused_is_an_error(pair):
    report = _report(pair)
    found = _by_key(report)
    sk, np_ = found["package:scikit-learn"], found["package:numpy"]
    assert (sk["severity"], np_["severity"]) == ("error", "error")
    assert "model.pkl" in sk["severity_reason"] and "RandomForestClassifier" in sk[
        "severity_reason"
    ]
    assert "model.pkl" in np_["severity_reason"]
    errors = {k for k, f in found.items() if f["severity"] == "error"}
    for name in ("certifi", "pip", "setuptools", "pytest", "tqdm", "unrelated-lib", "tzdata"):
        assert f"package:{name}" not in errors
        grouped = [f for f in report["findings"] if f"package:{name}" in f.get("related", [])]
        assert f"package:{name}" in found or grouped, name
    # Installers: info whatever relevance says, with that reason.
    installers = [
        m for f in report["findings"] for m in f.get("members", []) if m["key"] in ("pip",)
    ] or [found["package:pip"]]
    assert all(m["severity"] == "info" for m in installers)
    # The package the model never loads that jumped a major version: info, grouped, listed.
    unused = found["package:unused-changed"]
    assert unused["severity"] == "info"
    assert "unrelated-lib" in {m["key"] for m in unused["members"]}
    assert "never loads" in unused["why"]
    # pytest and tqdm, training-only tools, in one grouped info finding.
    missing = found["package:unused-missing"]
    assert missing["severity"] == "info"
    assert {"pytest", "tqdm"} <= {m["key"] for m in missing["members"]}
    assert report["relevance"]["known"] is True
    assert "model.pkl" in report["relevance"]["sources"]


def test_check_and_run_follow_the_same_verdicts(pair):
    work, env, python = pair["work"], pair["serve_env"], pair["np2"].python
    baseline = str(work / "training.json")
    check = _run(python, ["-m", "envparity", "check", "--baseline", baseline], env, work)
    assert check.returncode == 1, check.stderr
    assert "scikit-learn" in check.stdout and "model.pkl" in check.stdout
    started = work / "started"
    refused = _run(
        python,
        ["-m", "envparity", "run", "--baseline", baseline, "--on-drift", "fail", "--",
         sys.executable, "-c", f"open({str(started)!r}, 'w')"],
        env, work,
    )
    assert refused.returncode == 78, refused.stderr
    assert not started.exists()
    # Waive what the model needs (scikit-learn, numpy): nothing else blocks, neither the
    # certifi/pip/setuptools upgrades nor the missing pytest/tqdm.
    waive = ["--waive", "package:scikit-learn", "--reason", "retrained under 1.6",
             "--waive", "package:numpy", "--reason", "parity probes pass"]
    check = _run(python, ["-m", "envparity", "check", "--baseline", baseline, *waive], env, work)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "waived" in check.stdout and "retrained under 1.6" in check.stdout
    (work / "pyproject.toml").write_text(
        "[tool.envparity]\n"
        '[[tool.envparity.waive]]\nkey = "package:scikit-learn"\nreason = "retrained"\n'
        '[[tool.envparity.waive]]\nkey = "package:numpy"\nreason = "probes pass"\n'
    )
    try:
        ran = _run(
            python,
            ["-m", "envparity", "run", "--baseline", baseline, "--on-drift", "fail", "--",
             sys.executable, "-c", f"open({str(started)!r}, 'w')"],
            env, work,
        )
    finally:
        (work / "pyproject.toml").unlink()
    assert ran.returncode == 0, ran.stderr
    assert started.exists()
