"""Probes reachable everywhere: snapshot, parity, check, bench, the policy, Python, the serving
hook and pytest, each in real child processes of this interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, Optional

import pytest

pytest.importorskip("numpy")

PROBES = """
import os
import numpy as np
import envparity


def features(x):
    out = np.column_stack([x, np.log1p(x), x ** 2])
    if os.environ.get("SKEW"):
        out[4711, 1] *= 1.01
    return {"x": out[:, 0], "log1p": out[:, 1], "square": out[:, 2]}


def ids(n):
    return np.arange(n)


envparity.register_probe("features", features, np.linspace(0.0, 1.0, 10_000))
envparity.register_probe("ids", ids, 5)


def setup():
    return np.ones(1000)


def bench(state):
    return state.sum()


envparity.register_benchmark("my_sum", bench, setup=setup)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "parity_probes.py").write_text(PROBES)
    (tmp_path / "home").mkdir()
    return tmp_path


def _env(project: Path, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.pop("SKEW", None)
    env.update(ENVPARITY_HOME=str(project / "home"), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def envparity(project: Path, *args: str, env: Optional[Dict[str, str]] = None):
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True,
        text=True,
        cwd=project,
        env=env or _env(project),
        timeout=300,
    )


def _baseline(project: Path, *extra: str) -> Path:
    path = project / "base.json"
    done = envparity(
        project, "snapshot", "--probes", "parity_probes", "--no-store", "-o", str(path), *extra
    )
    assert done.returncode == 0, done.stderr
    return path


def test_snapshot_probes_then_parity_exits_0_same_env_and_1_when_a_probe_changes(project):
    base = _baseline(project)
    numerics = {r["name"]: r for r in json.loads(base.read_text())["numerics"]}
    assert set(numerics) == {"features", "ids"}  # only the registered ones without --numerics
    assert numerics["features"]["output"] and numerics["features"]["wall_s"] is not None
    same = envparity(project, "parity", str(base), "--probes", "parity_probes")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no drift" in same.stdout and "2 probes compared" in same.stderr
    skewed = envparity(
        project,
        "parity",
        str(base),
        "--probes",
        "parity_probes",
        "--format",
        "json",
        env=_env(project, SKEW="1"),
    )
    assert skewed.returncode == 1, skewed.stderr
    (f,) = json.loads(skewed.stdout)["findings"]
    assert (f["key"], f["severity"]) == ("features", "error")
    assert "column 'log1p': 1 of 10000 rows (0.01%) differ" in f["why"] and "row 4711" in f["why"]


def test_parity_bad_input_is_one_line_and_exit_2(project):
    base = _baseline(project)
    no_probes = envparity(project, "parity", str(base))
    assert no_probes.returncode == 2 and "no probes to run" in no_probes.stderr
    missing = envparity(project, "parity", str(base), "--probes", "no_such_module")
    assert missing.returncode == 2
    assert "--probes no_such_module: cannot import it (ModuleNotFoundError" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_format = envparity(project, "parity", str(base), "--format", "yaml")
    assert bad_format.returncode == 2 and "--format" in bad_format.stderr


def test_policy_probes_are_found_and_unknown_policy_keys_only_warn(project):
    base = _baseline(project)
    (project / "pyproject.toml").write_text(
        '[tool.envparity]\nprobes = ["parity_probes"]\nfuture_key = 1\n'
    )
    done = envparity(project, "parity", str(base), env=_env(project, SKEW="1"))
    assert done.returncode == 1, done.stderr
    assert "future_key: unknown policy key, ignored" in done.stderr
    check = envparity(project, "check", "--baseline", str(base), "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    (project / "pyproject.toml").write_text('[tool.envparity]\nprobes = "parity_probes"\n')
    bad = envparity(project, "parity", str(base))
    assert bad.returncode == 2 and "probes: expected a list of module names" in bad.stderr


def test_check_with_probes_compares_the_outputs(project):
    base = _baseline(project)
    done = envparity(
        project,
        "check",
        "--baseline",
        str(base),
        "--probes",
        "parity_probes",
        "--format",
        "json",
        env=_env(project, SKEW="1"),
    )
    assert done.returncode == 1, done.stderr
    keys = [(f["category"], f["key"]) for f in json.loads(done.stdout)["findings"]]
    assert ("numerics", "features") in keys


def test_bench_runs_registered_benchmarks_with_their_setup(project):
    # Workers start without site (-S): an editable install's finder is not there, PYTHONPATH is.
    env = _env(project, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = envparity(
        project, "bench", "--probes", "parity_probes", "--json", "--no-numerics", env=env
    )
    assert done.returncode == 0, done.stderr
    results = {r["name"]: r for r in json.loads(done.stdout)["benchmarks"]["results"]}
    assert results["my_sum"]["status"] == "ok", results["my_sum"]


def test_snapshot_in_python_with_probes_and_numerics(project):
    code = (
        "import json, envparity; "
        "s = envparity.snapshot(probes=['parity_probes'], numerics=True); "
        "print(json.dumps(sorted(r.name for r in s.numerics)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=project,
        env=_env(project, PYTHONPATH=str(project)),
    )
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout)
    assert {"features", "ids", "numpy_gemm_f64", "convention_local_date"} <= set(names)
    code = "import envparity; print(envparity.snapshot().numerics)"
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert plain.stdout.strip() == "None"


def test_envparity_run_runs_probes_only_when_asked(project):
    base = _baseline(project)
    cmd = [
        "run",
        "--baseline",
        str(base),
        "--on-drift",
        "fail",
        "--",
        sys.executable,
        "-c",
        "print('served')",
    ]
    # A budget for a shared, busy test machine; the default (2 s) suits a serving container.
    asked = _env(
        project, ENVPARITY_PROBES="parity_probes", PYTHONPATH=str(project), ENVPARITY_BUDGET_S="60"
    )
    ok = envparity(project, *cmd, env=asked)
    assert (ok.returncode, ok.stdout) == (0, "served\n"), ok.stderr
    refused = envparity(project, *cmd, env={**asked, "SKEW": "1"})
    assert refused.returncode == 78, refused.stderr
    # Not asked: the probes do not run, so the skew is not seen.
    quiet = envparity(project, *cmd, env=_env(project, SKEW="1", ENVPARITY_BUDGET_S="60"))
    assert quiet.returncode == 0, quiet.stderr


def _pytest(project: Path, *args: str, **env: str):
    (project / "test_app.py").write_text("def test_app():\n    assert True\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_app.py", *args],
        capture_output=True,
        text=True,
        cwd=project,
        env=_env(project, **env),
        timeout=300,
    )


def _cases(xml: Path) -> Dict[str, ET.Element]:
    root = ET.parse(xml).getroot()
    return {c.get("name", ""): c for c in root.iter("testcase")}


def test_pytest_plugin_one_item_per_probe_with_fingerprint_in_junit(project):
    base = _baseline(project)
    xml = project / "junit.xml"
    args = [
        "--envparity-baseline",
        str(base),
        "--envparity-probes",
        "parity_probes",
        f"--junitxml={xml}",
    ]
    same = _pytest(project, *args)
    assert same.returncode == 0, same.stdout
    assert "3 passed" in same.stdout
    skewed = _pytest(project, *args, SKEW="1")
    assert skewed.returncode == 1, skewed.stdout
    assert "1 failed, 2 passed" in skewed.stdout
    assert "column 'log1p': 1 of 10000 rows (0.01%) differ" in skewed.stdout
    cases = _cases(xml)
    assert set(cases) == {"test_app", "features", "ids"}
    assert cases["features"].find("failure") is not None
    assert cases["ids"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in cases["ids"].iter("property")}
    baseline_fp = json.loads(base.read_text())["fingerprint"]
    assert props["envparity_baseline"] == str(base)
    assert props["envparity_baseline_fingerprint"] == baseline_fp
    assert len(props["envparity_fingerprint"] or "") == 64


def test_pytest_plugin_counts_its_items_and_names_the_baseline_everywhere(project):
    base = _baseline(project)
    record = json.loads(base.read_text())
    xml = project / "junit.xml"
    done = _pytest(
        project,
        "-v",
        "--envparity-baseline",
        str(base),
        "--envparity-probes",
        "parity_probes",
        f"--junitxml={xml}",
    )
    assert done.returncode == 0, done.stdout
    assert "collected 3 items" in done.stdout, done.stdout  # test_app, features, ids
    want = {
        "envparity_baseline": str(base),
        "envparity_baseline_id": record["snapshot_id"],
        "envparity_baseline_fingerprint": record["fingerprint"],
    }
    root = ET.parse(xml).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    props = suite.find("properties")
    assert props is not None
    suite_props = {p.get("name"): p.get("value") for p in props.iter("property")}
    assert want.items() <= suite_props.items(), suite_props
    assert len(suite_props["envparity_fingerprint"] or "") == 64
    for name in ("features", "ids"):
        case = {p.get("name"): p.get("value") for p in _cases(xml)[name].iter("property")}
        assert want.items() <= case.items(), (name, case)


def test_pytest_plugin_is_inert_without_its_option(project):
    done = _pytest(project, "--envparity-probes", "parity_probes")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout


def test_envparity_probes_variable_stands_for_probes_in_every_command(project):
    path = project / "from-env.json"
    env = _env(project, ENVPARITY_PROBES="parity_probes")
    done = envparity(project, "snapshot", "--no-store", "-o", str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert {r["name"] for r in json.loads(path.read_text())["numerics"]} == {"features", "ids"}
    skewed = envparity(project, "parity", str(path), env={**env, "SKEW": "1"})
    assert skewed.returncode == 1, skewed.stdout + skewed.stderr


def test_parity_and_the_pytest_plugin_append_their_own_step_summary(project):
    # In GitHub Actions each gate appends its own section (never overwriting the earlier steps')
    # and parity sets the step's verdict outputs.
    base = _baseline(project)
    summary, outputs = project / "step_summary.md", project / "github_output"
    summary.write_text("# earlier step\n")
    gh = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    done = envparity(
        project, "parity", str(base), "--probes", "parity_probes", env=_env(project, SKEW="1", **gh)
    )
    assert done.returncode == 1, done.stderr
    text = summary.read_text()
    assert text.startswith("# earlier step\n")
    assert "### envparity parity\n" in text and "2 probes compared with" in text
    assert "features" in text and "**envparity: drift error**" in text
    assert "verdict=error\n" in outputs.read_text() and "failed=true\n" in outputs.read_text()
    ran = _pytest(
        project, "--envparity-baseline", str(base), "--envparity-probes", "parity_probes",
        SKEW="1", **gh,
    )
    assert ran.returncode == 1, ran.stdout
    section = summary.read_text()[len(text):]
    assert section.startswith("### envparity parity probes (pytest)\n"), section
    assert "2 probes compared with baseline" in section and "1 beyond tolerance" in section
    rows = [x for x in section.splitlines() if x.startswith("| ") and "probe |" not in x]
    assert {row.split(" | ")[0][2:] for row in rows} == {"features", "ids"}
    assert any(row.startswith("| features | beyond | error |") for row in rows), rows
