"""Parity probes across the two pinned real stacks: NumPy 1.26 + scikit-learn 1.3 against NumPy 2.2
+ scikit-learn 1.6 (docs/design.md, "Real stacks for tests"). Never installed into: read only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from _stacks import stack_env

from envparity.parity.compare import compare_numerics, compare_probe, packages_of

pytestmark = pytest.mark.slow

# A team's parity module: a retrained model, a pickled one, NumPy arithmetic, a pandas frame.
PROBES = """
import os
import pickle

import numpy as np

import envparity
from envparity.bench.numerics import lcg_uniform


def data():
    x = np.array(lcg_uniform(400 * 4, seed=7)).reshape(400, 4)
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.25 * x[:, 2] + 0.3 * x[:, 3] ** 2 > 0.1).astype(int)
    return x, y


def retrained(d):
    from sklearn.linear_model import LogisticRegression

    x, y = d
    model = LogisticRegression(C=0.05, tol=1e-2, max_iter=5).fit(x, y)
    return model.predict_proba(x)[:, 1]


def pickled(d):
    with open(os.environ["RF_PICKLE"], "rb") as f:
        model = pickle.load(f)
    return model.predict_proba(d[0])[:, 1]


def promotion(x):
    return np.uint8(200) + x


envparity.register_probe("logreg_retrained", retrained, data())
envparity.register_probe("rf_pickled", pickled, data())
envparity.register_probe("uint8_plus_int", promotion, 100)
"""

TRAIN_RF = """
import pickle, sys
sys.path.insert(0, ".")
from probes_stack import data
from sklearn.ensemble import RandomForestClassifier
x, y = data()
model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
with open(sys.argv[1], "wb") as f:
    pickle.dump(model, f)
"""


def _run(python: Path, args: List[str], cwd: Path, extra: Optional[Dict[str, str]] = None):
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, cwd=cwd, env=stack_env(extra)
    )


@pytest.fixture(scope="module")
def stacks_compared(stack_np1, stack_np2, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stacks")
    (tmp / "probes_stack.py").write_text(PROBES)
    (tmp / "train_rf.py").write_text(TRAIN_RF)
    rf = tmp / "rf.pkl"
    done = _run(stack_np1.python, ["train_rf.py", str(rf)], tmp)
    assert done.returncode == 0, done.stderr
    snaps = {}
    for name, venv in (("np1", stack_np1), ("np2", stack_np2)):
        out = tmp / f"{name}.json"
        done = _run(
            venv.python,
            [
                "-m",
                "envparity",
                "snapshot",
                "--probes",
                "probes_stack",
                "--numerics",
                "--no-store",
                "-o",
                str(out),
            ],
            tmp,
            {"RF_PICKLE": str(rf)},
        )
        assert done.returncode == 0, done.stderr
        snaps[name] = json.loads(out.read_text())
    return tmp, rf, snaps


def _findings(snaps) -> Dict[str, dict]:
    base, cand = snaps["np1"], snaps["np2"]
    found = compare_numerics(
        base["numerics"],
        cand["numerics"],
        base_packages=packages_of(base),
        cand_packages=packages_of(cand),
    )
    return {f["key"]: f for f in found}


def test_retrained_model_beyond_tolerance_is_an_error_naming_numpy_and_sklearn(stacks_compared):
    _, _, snaps = stacks_compared
    by = {r["name"]: r for r in snaps["np1"]["numerics"]}
    cand = {r["name"]: r for r in snaps["np2"]["numerics"]}
    pc = compare_probe(
        "logreg_retrained",
        by["logreg_retrained"],
        cand["logreg_retrained"],
        base_packages=packages_of(snaps["np1"]),
        cand_packages=packages_of(snaps["np2"]),
    )
    assert pc.severity == "error", pc.why
    (col,) = pc.columns
    assert col.rows == 400 and 0 < col.diverging <= 400
    assert f"{col.diverging} of 400 rows" in pc.why
    # The advice names the libraries that changed among those loaded when the probe ran.
    assert "numpy 1.26.4 -> 2.2.6" in pc.why and "scikit-learn 1.3.2 -> 1.6.1" in pc.why


def test_a_model_pickled_under_sklearn_13_that_fails_under_16_is_an_error(stacks_compared):
    _, _, snaps = stacks_compared
    f = _findings(snaps)["rf_pickled"]
    assert f["severity"] == "error"
    assert "raised only on the candidate" in f["why"]
    assert "AttributeError" in f["why"] and "monotonic_cst" in f["why"]


def test_uint8_plus_int_under_numpy_1_and_2_is_an_error(stacks_compared):
    _, _, snaps = stacks_compared
    found = _findings(snaps)
    assert found["uint8_plus_int"]["severity"] == "error"
    assert "int64" in found["uint8_plus_int"]["why"] and "uint8" in found["uint8_plus_int"]["why"]
    conv = found["convention_numpy_promotion"]
    assert conv["severity"] == "error"
    assert "NEP 50" in conv["why"] and "numpy '1.26.4' -> '2.2.6'" in conv["why"]
    assert "'300' -> '44'" in conv["why"]  # np.uint8(200) + 100: 300 under NumPy 1, 44 under 2


def test_envparity_parity_exits_0_in_the_same_stack_and_1_across_stacks(
    stacks_compared, stack_np1, stack_np2
):
    tmp, rf, _ = stacks_compared
    args = ["-m", "envparity", "parity", str(tmp / "np1.json"), "--probes", "probes_stack"]
    same = _run(stack_np1.python, args, tmp, {"RF_PICKLE": str(rf)})
    assert same.returncode == 0, same.stdout + same.stderr
    other = _run(stack_np2.python, [*args, "--format", "json"], tmp, {"RF_PICKLE": str(rf)})
    assert other.returncode == 1, other.stderr
    keys = {f["key"]: f["severity"] for f in json.loads(other.stdout)["findings"]}
    assert keys["rf_pickled"] == keys["uint8_plus_int"] == keys["logreg_retrained"] == "error"


FRAME = """
import json, sys
import pandas as pd
from envparity.bench.numerics import record

def frame(extra):
    colors = ["red", "green", "red", "blue"] + (["violet"] if extra else ["red"])
    return pd.DataFrame({
        "score": [0.1, 0.2, 0.3, 0.4, 0.5],
        "color": pd.Categorical(colors),
        "n": pd.array([1, 2, None, 4, 5], dtype="Int64"),
    })

out = [record("frame", lambda e=e: frame(e)).model_dump(mode="json") for e in (False, True)]
json.dump(out, sys.stdout)
"""


def test_a_categorical_column_with_one_new_category_is_an_error(stack_np2, tmp_path):
    done = _run(stack_np2.python, ["-c", FRAME], tmp_path)
    assert done.returncode == 0, done.stderr
    base, cand = json.loads(done.stdout)
    assert "pandas" not in sys.modules  # compared here without pandas
    pc = compare_probe("frame", base, cand)
    assert pc.severity == "error"
    assert "column 'color': new category ['violet']" in pc.why
    assert [c.name for c in pc.columns if c.failed] == ["color"]
