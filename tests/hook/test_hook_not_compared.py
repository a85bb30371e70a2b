"""The hook says what it could not compare: a baseline with torch's deterministic switch against
a server that has not imported torch yet is "no drift in what was compared", never "no drift".

Real torch 2.13.0 CPU (the cached torch stack), real child processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _support import REPO
from hook_helpers import log_record

pytestmark = pytest.mark.slow  # a torch venv (cached)

BASELINE = (
    "import sys, torch\n"
    "torch.use_deterministic_algorithms(True)\n"
    "from envparity.cli import main\n"
    "sys.argv = ['envparity', 'snapshot', '--no-store', '--role', 'training', '-o', sys.argv[1]]\n"
    "main()\n"
)


def test_a_framework_the_server_has_not_imported_is_listed_not_compared(
    stack_torch, hook_env, tmp_path: Path
) -> None:
    env = hook_env(PYTHONPATH=str(REPO), ENVPARITY_BUDGET_S="120")  # a busy machine
    work = tmp_path / "tmp"  # not a git checkout, like a server
    work.mkdir(exist_ok=True)
    baseline = tmp_path / "baseline.json"
    done = subprocess.run(
        [str(stack_torch.python), "-c", BASELINE, str(baseline)], env=env, cwd=work,
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [str(stack_torch.python), "-m", "envparity", "run", "--baseline", str(baseline), "--",
         str(stack_torch.python), "-c", "pass"],
        env=env, cwd=work, capture_output=True, text=True, check=False, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    record = log_record(run.stderr)
    assert "determinism:torch.deterministic_algorithms" in record["not_compared"]
    line = next(ln for ln in run.stderr.splitlines() if ln.startswith("envparity: "))
    assert "not compared: " in line and "torch.deterministic_algorithms" in line, line
    if record["verdict"] == "none":
        assert "no drift in what was compared" in line
    assert "vs baseline" in line and ": no drift;" not in line and ": no drift (" not in line
