"""The hash seed in effect, variables libraries set themselves, and the environment allowlist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from _stacks import stack_env

from envparity.collect import envvars
from envparity.collect.interface import Context
from envparity.comparison import compare as diff
from envparity.drift.variables import DETERMINISM_ERRORS
from envparity.model import Snapshot

_CAPTURE = """\
import sys
{pre}
from envparity.collect.capture import collect_data
import json
print(json.dumps(collect_data()))
"""


def _clean_env(**extra: str) -> Dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENVPARITY_", "TF_", "KMP_", "JOBLIB_"))
        and k not in ("PYTHONHASHSEED",)
    }
    env.update(extra)
    return env


def _capture(
    env: Dict[str, str], pre: str = "", python: Optional[str] = None, cwd: Optional[Path] = None
) -> Dict[str, Any]:
    r = subprocess.run(
        [python or sys.executable, "-c", _CAPTURE.format(pre=pre)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_hash_seed_at_start_vs_random_is_an_error_finding(tmp_path):
    fixed = _capture(_clean_env(PYTHONHASHSEED="0"), cwd=tmp_path)
    rand = _capture(_clean_env(), cwd=tmp_path)
    assert fixed["determinism"]["hash_seed"] == "0"
    assert fixed["determinism"]["hash_randomization"] is False
    assert rand["determinism"]["hash_seed"] == "random"
    assert rand["determinism"]["hash_randomization"] is True
    assert fixed["fingerprint"] != rand["fingerprint"]
    report = diff(Snapshot.model_validate(rand), Snapshot.model_validate(fixed))
    hs = [f for f in report.findings if f.key == "PYTHONHASHSEED"]
    assert [(f.category, f.baseline, f.candidate, f.severity) for f in hs] == [
        ("determinism", "random", "0", "error")
    ]
    seeded = _capture(_clean_env(PYTHONHASHSEED="123"), cwd=tmp_path)
    assert seeded["determinism"]["hash_seed"] == "123"


def test_seed_everything_cannot_fake_the_hash_seed(tmp_path):
    pre = "import envparity; envparity.seed_everything(42)"
    data = _capture(_clean_env(), pre=pre, cwd=tmp_path)
    assert data["determinism"]["hash_seed"] == "random"  # not 42: set after start-up
    assert "PYTHONHASHSEED" not in data["determinism"]["env"]
    assert data["seeds"]["declared"] == {"random": 42}


def test_python_mode_reads_the_childs_hash_seed(tmp_path):
    out = tmp_path / "s.json"
    r = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store"]
        + ["--python", sys.executable, "-o", str(out)],
        capture_output=True,
        text=True,
        env=_clean_env(PYTHONHASHSEED="5"),
        cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["determinism"]["hash_seed"] == "5"


def test_terraform_variables_never_enter_the_fingerprint(tmp_path):
    tf = {
        "TF_LOG": "DEBUG",
        "TF_CLI_CONFIG_FILE": "/etc/tf.rc",
        "TF_WORKSPACE": "prod",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_DATA_DIR": "/tmp/tf",
    }
    a = _capture(_clean_env(TF_VAR_image_tag="abc", **tf), cwd=tmp_path)
    b = _capture(_clean_env(TF_VAR_image_tag="def"), cwd=tmp_path)
    assert a["fingerprint"] == b["fingerprint"]
    for data in (a, b):
        captured = {**data["env"], **data["determinism"]["env"]}
        assert not [k for k in captured if k.startswith("TF_")]
    # TensorFlow's own variables still count.
    c = _capture(_clean_env(TF_CPP_MIN_LOG_LEVEL="2", TF_DETERMINISTIC_OPS="1"), cwd=tmp_path)
    assert c["env"]["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert c["determinism"]["env"]["TF_DETERMINISTIC_OPS"] == "1"


@pytest.mark.parametrize(
    "name",
    [
        "NPY_PROMOTION_STATE",
        "SKLEARN_ASSUME_FINITE",
        "SKLEARN_SITE_JOBLIB",
        "LOKY_MAX_CPU_COUNT",
        "JOBLIB_START_METHOD",
        "JOBLIB_MULTIPROCESSING",
        "TOKENIZERS_PARALLELISM",
    ],
)
def test_variables_that_change_results_are_captured(name):
    ctx = Context(environ={name: "1"}, proc="/nonexistent")
    assert envvars.collect(ctx)["determinism_env"] == {name: "1"}


@pytest.mark.parametrize(
    "name",
    ["TF_VAR_x", "TF_LOG", "TF_LOG_PATH", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "TF_TOKEN_app"],
)
def test_terraform_names_are_refused(name):
    assert not envvars.is_allowed(name) and not envvars.is_determinism(name)


def test_every_variable_a_drift_rule_names_is_captured():
    named = set(DETERMINISM_ERRORS) - {"PYTHONHASHSEED"}  # now determinism.hash_seed
    assert {n for n in named if not envvars.is_determinism(n)} == set()
    # ... and every captured determinism variable is graded by a rule (named, or the generic one).
    for name in envvars.DETERMINISM_NAMES:
        ctx = Context(environ={name: "1"}, proc="/nonexistent")
        assert name in envvars.collect(ctx)["determinism_env"]


@pytest.mark.slow
def test_variables_sklearn_sets_at_import_are_its_own(stack_np1, tmp_path):
    env = {k: v for k, v in stack_env().items() if not k.startswith("KMP_")}
    before = _capture(env, python=str(stack_np1.python), cwd=tmp_path)
    after = _capture(env, pre="import sklearn", python=str(stack_np1.python), cwd=tmp_path)
    assert after["determinism"]["library_env"] == {
        "KMP_DUPLICATE_LIB_OK": {
            "value": "True",
            "set_by": "scikit-learn",
            "source": "sklearn/__init__.py",
        },
        "KMP_INIT_AT_FORK": {
            "value": "FALSE",
            "set_by": "scikit-learn",
            "source": "sklearn/__init__.py",
        },
    }
    assert "KMP_DUPLICATE_LIB_OK" not in after["determinism"]["env"]
    assert before["fingerprint"] == after["fingerprint"]
    # Set by the user at start-up, the same variable is the user's choice.
    mine = _capture(
        {**env, "KMP_DUPLICATE_LIB_OK": "True"},
        pre="import sklearn",
        python=str(stack_np1.python),
        cwd=tmp_path,
    )
    assert mine["determinism"]["env"]["KMP_DUPLICATE_LIB_OK"] == "True"
    assert "KMP_DUPLICATE_LIB_OK" not in mine["determinism"]["library_env"]
