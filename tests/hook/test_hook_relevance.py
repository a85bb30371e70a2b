"""The start-up hook and relevance: the build-time model record (never a scan at start-up), a
bad model path that is only a logged problem, and an expired waiver that never refuses a
server."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

from hook_helpers import envparity_cmd, log_record


def _run(args, env):
    return subprocess.run(
        # A generous budget: the machine may be busy, and the verdict is what is tested here.
        envparity_cmd("run", "--budget", "60", *args),
        env=env, capture_output=True, text=True, timeout=120, cwd=env["TMPDIR"],
    )


def test_build_time_model_record_makes_unused_drift_info(hook_env, write_baseline, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(OrderedDict(a=1)))
    env = hook_env()
    built = subprocess.run(
        envparity_cmd("snapshot", "--no-store", "--model", str(model)),
        env=env, capture_output=True, text=True, cwd=env["TMPDIR"], check=False,
    )
    assert built.returncode == 0, built.stderr
    baseline = str(write_baseline(drift=True))
    args = ["--baseline", baseline, "--on-drift", "fail", "--", sys.executable, "-c", "pass"]
    # Without the model the drifted package is judged as if the model used it: refused.
    assert _run(args, env).returncode == 78
    done = _run(args, hook_env(ENVPARITY_MODEL=str(model)))
    assert done.returncode == 0, done.stderr
    assert log_record(done.stderr)["verdict"] == "info"


def test_a_model_changed_since_the_build_or_missing_is_a_problem_and_the_server_starts(
    hook_env, write_baseline, tmp_path
):
    missing = tmp_path / "gone.pkl"
    stale = tmp_path / "stale.pkl"
    stale.write_bytes(pickle.dumps([1]))
    env = hook_env(ENVPARITY_MODEL=f"{missing},{stale}")
    done = _run(["--baseline", str(write_baseline()), "--", sys.executable, "-c", "pass"], env)
    assert done.returncode == 0, done.stderr
    assert f"model {missing}: No such file" in done.stderr
    assert f"model {stale}: no build-time record" in done.stderr


def test_an_expired_waiver_is_logged_but_never_refuses(hook_env, write_baseline):
    env = hook_env()
    Path(env["TMPDIR"], "pyproject.toml").write_text(
        '[tool.envparity]\n[[tool.envparity.waive]]\nkey = "package:*"\n'
        'reason = "accepted for the migration"\nuntil = 2020-01-31\n'
    )
    args = ["--baseline", str(write_baseline(drift=True)), "--on-drift", "fail", "--",
            sys.executable, "-c", "pass"]
    done = _run(args, env)
    assert done.returncode == 0, done.stderr
    assert "expired on 2020-01-31" in done.stderr
