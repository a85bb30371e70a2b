"""A snapshot file's fingerprint is recomputed on load: a hand edit cannot keep the old one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _support import REPO

from envparity.collect.capture import collect_data


def _diff(*args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "envparity", "diff", *args, "--format", "json"],
        capture_output=True, text=True, env=env, check=False,
    )


def test_a_hand_edited_file_is_one_warning_and_reports_use_the_recomputed_value(
    tmp_path: Path,
) -> None:
    data = collect_data()
    base = tmp_path / "base.json"
    base.write_text(json.dumps(data))
    edited = dict(data, packages=[*data["packages"], {"name": "zzz-edited", "version": "1.0"}])
    cand = tmp_path / "edited.json"
    cand.write_text(json.dumps(edited))  # still claims the original fingerprint
    done = _diff(str(base), str(cand))
    assert done.returncode == 0, done.stderr  # a package added: below the default fail-on
    lines = [ln for ln in done.stderr.splitlines() if "fingerprint" in ln]
    assert len(lines) == 1, done.stderr
    report = json.loads(done.stdout)
    assert "zzz-edited" in {f["key"] for f in report["findings"]}
    actual = report["candidate"]["fingerprint"]
    assert actual != data["fingerprint"]
    assert str(cand) in lines[0] and data["fingerprint"] in lines[0] and actual in lines[0]
    # An untouched file: no warning, its own fingerprint.
    same = _diff(str(base), str(base))
    assert same.returncode == 0 and "fingerprint" not in same.stderr, same.stderr
    assert json.loads(same.stdout)["baseline"]["fingerprint"] == data["fingerprint"]
