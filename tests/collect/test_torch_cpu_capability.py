"""ATEN_CPU_CAPABILITY on real torch 2.13.0 CPU: recorded, in the identity, a finding, and what
``bisect`` names when torch's results change with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from _support import REPO

pytestmark = pytest.mark.slow  # a torch venv (cached)

PROBES = """
import envparity
import torch


def log(_):
    return torch.log(torch.linspace(0.01, 100.0, 20000, dtype=torch.float32)).tolist()


envparity.register_probe("torch_log", log, None)
"""


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVPARITY_", "ATEN_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def test_aten_cpu_capability_is_identity_and_a_finding(stack_torch, tmp_path: Path) -> None:
    code = (
        "import sys, torch\nfrom envparity.cli import main\n"
        "sys.argv = ['envparity', 'snapshot', '--no-store', '-o', sys.argv[1]]\nmain()\n"
    )
    runs = {}
    for name, extra in (("native", {}), ("default", {"ATEN_CPU_CAPABILITY": "default"})):
        out = tmp_path / f"{name}.json"
        done = subprocess.run(
            [str(stack_torch.python), "-c", code, str(out)], env=_env(**extra),
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stderr
        runs[name] = json.loads(out.read_text())
    native, default = runs["native"], runs["default"]
    assert default["determinism"]["env"]["ATEN_CPU_CAPABILITY"] == "default"
    # torch was imported: its effective capability is recorded, as an instance value.
    assert default["determinism"]["frameworks"]["torch"]["cpu_capability"] == "DEFAULT"
    assert native["fingerprint"] != default["fingerprint"]
    diff = subprocess.run(
        [sys.executable, "-m", "envparity", "diff", str(tmp_path / "native.json"),
         str(tmp_path / "default.json"), "--format", "json"],
        env=_env(), capture_output=True, text=True, check=False,
    )
    assert diff.returncode == 1, diff.stderr
    found = {f["key"]: f for f in json.loads(diff.stdout)["findings"]}
    assert found["ATEN_CPU_CAPABILITY"]["severity"] == "error"
    assert "torch's CPU kernels" in found["ATEN_CPU_CAPABILITY"]["why"]


def test_bisect_names_aten_cpu_capability(stack_torch, tmp_path: Path) -> None:
    (tmp_path / "torchprobes.py").write_text(PROBES)
    baseline = tmp_path / "baseline.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "bisect" / "_baseline.py"),
         str(stack_torch.python), str(baseline), "torchprobes"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    bisect = subprocess.run(
        [sys.executable, "-m", "envparity", "bisect", str(baseline), "--python",
         str(stack_torch.python), "--probes", "torchprobes", "--format", "json"],
        cwd=tmp_path, env=_env(ATEN_CPU_CAPABILITY="default"), capture_output=True, text=True,
        check=False, timeout=600,
    )
    assert bisect.returncode == 0, bisect.stdout + bisect.stderr
    report = json.loads(bisect.stdout)
    (symptom,) = report["symptoms"]
    assert symptom["status"] == "explained"
    assert [c["keys"] for c in symptom["causes"]] == [["ATEN_CPU_CAPABILITY"]]
