"""torch imported in-process, the CLI and ``--python``: one fingerprint (issue 23).

torch 2.13.0 CPU, which ``pip install torch==2.13.0`` takes from the machine's disk. Only a
process that imported torch can read its CUDA/cuDNN/NCCL versions (``accelerator``): those are
instance values, so the identity does not depend on whether a framework was imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from _stacks import StackUnavailable, build_stack, stack_env

from envparity.comparison import compare as diff
from envparity.model import Snapshot

pytestmark = pytest.mark.slow

_IN_PROCESS = """\
import sys
import torch
from envparity.collect.capture import capture
open(sys.argv[1], "w").write(capture().model_dump_json())
"""


@pytest.fixture(scope="module")
def torch_stack():
    try:
        return build_stack("torch")
    except StackUnavailable as e:
        pytest.skip(f"torch 2.13.0 could not be installed: {e}")


def _run(args, tmp_path: Path) -> None:
    env = stack_env({"HOME": str(tmp_path)})
    env.pop("PYTHONHASHSEED", None)
    r = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]


def test_torch_in_process_cli_and_python_one_fingerprint(torch_stack, tmp_path):
    out: Dict[str, Path] = {m: tmp_path / f"{m}.json" for m in ("in-process", "cli", "python")}
    _run([torch_stack.python, "-c", _IN_PROCESS, out["in-process"]], tmp_path)
    _run([torch_stack.python, "-m", "envparity", "snapshot", "--no-store", "-o", out["cli"]],
         tmp_path)
    _run([sys.executable, "-m", "envparity", "snapshot", "--no-store", "--python",
          torch_stack.python, "-o", out["python"]], tmp_path)
    snaps = {m: Snapshot.model_validate_json(p.read_text()) for m, p in out.items()}
    # The premise: only the process that imported torch read it.
    assert snaps["in-process"].accelerator.source == "torch"
    assert snaps["cli"].accelerator.source is None
    assert any(p.name == "torch" and p.content for p in snaps["cli"].packages)
    assert len({s.fingerprint for s in snaps.values()}) == 1, {
        m: s.fingerprint[:12] for m, s in snaps.items()
    }
    for mode in ("cli", "python"):
        report = diff(snaps["in-process"], snaps[mode])
        assert [f for f in report.findings if f.category in ("accelerator", "package")] == []
