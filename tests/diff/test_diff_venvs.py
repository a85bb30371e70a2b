"""End to end: two real venvs with known differences, snapshotted and diffed by the real CLI."""

from __future__ import annotations

import json
import os

import pytest
from _support import run_cli

BASELINE = {
    "alpha": "1.0.0",  # -> 2.0.0  major up
    "beta": "1.2.0",  # -> 1.3.0  minor up
    "gamma": "2.3.4",  # -> 2.3.5  patch up
    "delta": "3.1.0",  # -> 3.0.2  minor down
    "eta": "1.0.1",  # -> 1.0.0  patch down
    "kappa": "4.0.0",  # -> 3.9.0  major down
    "epsilon": "1.0",  # removed
    "zeta": "1.0.0+cpu",  # -> 1.0.0+cu121  another build
    "same": "0.1.0",  # unchanged
}
CANDIDATE = {
    "alpha": "2.0.0",
    "beta": "1.3.0",
    "gamma": "2.3.5",
    "delta": "3.0.2",
    "eta": "1.0.0",
    "kappa": "3.9.0",
    "zeta": "1.0.0+cu121",
    "omega": "0.5.0",  # added
    "same": "0.1.0",
}
EXPECTED = {
    ("package", "alpha"): ("error", "changed"),
    ("package", "beta"): ("warning", "changed"),
    ("package", "gamma"): ("info", "changed"),
    ("package", "delta"): ("warning", "changed"),
    ("package", "eta"): ("info", "changed"),
    ("package", "kappa"): ("error", "changed"),
    ("package", "epsilon"): ("error", "removed"),
    ("package", "zeta"): ("warning", "changed"),
    ("package", "omega"): ("info", "added"),
    ("determinism", "PYTHONHASHSEED"): ("error", "changed"),
    ("determinism", "OMP_NUM_THREADS"): ("warning", "changed"),
    # One finding per root cause: TZ is listed inside the time zone finding.
    ("platform", "timezone"): ("warning", "changed"),
}


def _env(tmp_path, **values):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENVPARITY_", "PYTHONHASHSEED", "OMP_", "TZ"))
    }
    env.update(ENVPARITY_HOME=str(tmp_path / "home"), **values)
    return env


@pytest.mark.slow
def test_every_injected_difference_is_found_and_nothing_else(tmp_path, make_wheel, make_venv):
    snaps = {}
    for side, versions, env in (
        ("a", BASELINE, {"PYTHONHASHSEED": "0", "TZ": "UTC", "OMP_NUM_THREADS": "4"}),
        ("b", CANDIDATE, {"PYTHONHASHSEED": "1", "TZ": "Asia/Tokyo", "OMP_NUM_THREADS": "2"}),
    ):
        venv = make_venv(f"venv-{side}")
        venv.install(*(make_wheel(name, v) for name, v in versions.items()))
        out = tmp_path / f"{side}.json"
        result = run_cli(
            "snapshot",
            "--no-store",
            "--python",
            str(venv.python),
            "-o",
            str(out),
            env=_env(tmp_path, **env),
            cwd=str(tmp_path),
        )
        assert result.returncode == 0, result.stderr
        snaps[side] = str(out)

    result = run_cli("diff", snaps["a"], snaps["b"], "--format", "json", cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr  # errors reach the default fail-on
    report = json.loads(result.stdout)
    found = {(f["category"], f["key"]): (f["severity"], f["change"]) for f in report["findings"]}
    assert found == EXPECTED
    assert report["verdict"] == "error"
    assert report["counts"] == {"error": 4, "warning": 5, "info": 3}
    tz = next(f for f in report["findings"] if f["key"] == "timezone")
    assert "env:TZ" in tz["related"]
    for f in report["findings"]:
        if f["category"] == "package" and f["change"] != "added":
            assert f"{f['key']}=={BASELINE[f['key']]}" in f["why"]

    # The same environment snapshotted twice: no drift.
    same = run_cli("diff", snaps["a"], snaps["a"], cwd=str(tmp_path))
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("envparity: no drift")

    for fail_on, code in (("never", 0), ("error", 1), ("warning", 1), ("info", 1)):
        r = run_cli("diff", snaps["a"], snaps["b"], "--fail-on", fail_on, cwd=str(tmp_path))
        assert r.returncode == code, (fail_on, r.stderr)
    # Ignore the errors by policy: warnings remain, below the default fail-on.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'ignore = ["package:alpha", "package:kappa", "package:epsilon"]\n'
        '[severity]\n"determinism:PYTHONHASHSEED" = "info"\n'
    )
    r = run_cli("diff", snaps["a"], snaps["b"], "--policy", str(policy), cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("envparity: drift WARNING: 0 errors, 5 warnings, 4 info")
