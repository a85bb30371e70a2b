"""A symptom no recorded difference explains: bisect says the cause is not recorded, instead of
blaming "untestable differences" while listing none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from _support import REPO, Venv

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow  # builds a virtualenv


def test_a_cause_nothing_records_is_said_to_be_unrecorded(
    tmp_path: Path, make_venv: Callable[[str], Venv]
) -> None:
    python = make_venv("same").python  # the baseline's and the candidate's interpreter
    (tmp_path / "myprobes.py").write_text(
        "import os, envparity\n"
        "envparity.register_probe('secret', lambda _: [len(os.environ.get('MY_SWITCH', ''))],"
        " None)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(PYTHONPATH=str(REPO), TZ="UTC")
    out = tmp_path / "b.json"
    done = subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(python), str(out), "myprobes"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    runs = {}
    for fmt in ("json", "text"):
        runs[fmt] = subprocess.run(
            [sys.executable, "-m", "envparity", "bisect", str(out), "--python", str(python),
             "--probes", "myprobes", "--format", fmt],
            cwd=tmp_path, env={**env, "MY_SWITCH": "on"}, capture_output=True, text=True,
            check=False, timeout=600,
        )
        assert runs[fmt].returncode == 1, runs[fmt].stdout + runs[fmt].stderr
    (symptom,) = json.loads(runs["json"].stdout)["symptoms"]
    assert symptom["status"] == "unexplained" and symptom["untestable"] == []
    assert "no recorded difference explains it" in symptom["note"]
    assert "untestable" not in runs["text"].stdout.split("Differences:")[0]
