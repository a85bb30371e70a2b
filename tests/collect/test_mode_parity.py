"""One environment, one fingerprint, in every capture mode, on the two pinned real stacks.

The modes: in-process before the user's imports, in-process after ``import numpy, scipy,
sklearn``, ``envparity snapshot``, ``snapshot --python`` from another interpreter, and the
start-up hook (``envparity run -- true``). NumPy 1.26's vendored OpenBLAS (no ``$ORIGIN`` RPATH),
scipy's own OpenBLAS and scikit-learn's libgomp are where the capture used to differ by mode.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from _stacks import stack_env

from envparity.comparison import compare as diff
from envparity.model import Snapshot

pytestmark = pytest.mark.slow

_IN_PROCESS = """\
import sys
{imports}
from envparity.collect.capture import capture
open(sys.argv[1], "w").write(capture().model_dump_json())
"""


def _env(tmp_path: Path) -> Dict[str, str]:
    env = stack_env()
    env.pop("PYTHONHASHSEED", None)
    env["HOME"] = str(tmp_path)  # no stray config
    return env


def _run(args, tmp_path: Path, **kwargs) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        check=False,
        **kwargs,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def capture_all_modes(venv, tmp_path: Path) -> Dict[str, Snapshot]:
    out: Dict[str, Path] = {m: tmp_path / f"{m}.json" for m in ("before", "after", "cli", "python")}
    code_before = _IN_PROCESS.format(imports="")
    code_after = _IN_PROCESS.format(imports="import numpy, scipy, scipy.linalg, sklearn")
    _run([venv.python, "-c", code_before, out["before"]], tmp_path)
    _run([venv.python, "-c", code_after, out["after"]], tmp_path)
    _run([venv.python, "-m", "envparity", "snapshot", "--no-store", "-o", out["cli"]], tmp_path)
    # --python from another interpreter: the test runner's, which is not the stack's.
    _run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store"]
        + ["--python", venv.python, "-o", out["python"]],
        tmp_path,
    )
    snaps = {m: Snapshot.model_validate_json(p.read_text()) for m, p in out.items()}
    # The start-up hook: envparity run -- true, storing into a SQLite file.
    db = f"sqlite:///{tmp_path / 'hook.db'}"
    _run([venv.python, "-m", "envparity", "db", "upgrade", "--db", db], tmp_path)
    r = _run(
        [venv.python, "-m", "envparity", "run", "--db", db, "--budget", "60", "--", "true"],
        tmp_path,
    )
    record = json.loads(r.stderr.strip().splitlines()[-1])
    from envparity.store import open_store

    with open_store(db) as store:
        snaps["hook"] = store.resolve(record["snapshot_id"])
    return snaps


@pytest.mark.parametrize("stack", ["stack_np1", "stack_np2"])
def test_every_mode_gives_one_fingerprint_and_no_findings(stack, request, tmp_path):
    venv = request.getfixturevalue(stack)
    snaps = capture_all_modes(venv, tmp_path)
    for mode, snap in snaps.items():
        assert [e.message for e in snap.collection.errors if e.probe == "blas"] == [], mode
        keys = {lib.key: lib.state for lib in snap.blas}
        assert keys == {
            "numpy/blas": "ok",
            "scipy/blas": "ok",
            "scikit-learn/openmp": "ok",
        }, mode
    fingerprints = {mode: snap.fingerprint for mode, snap in snaps.items()}
    assert len(set(fingerprints.values())) == 1, fingerprints
    for (ma, a), (mb, b) in itertools.permutations(snaps.items(), 2):
        report = diff(a, b)
        assert report.findings == [], (ma, mb, report.findings)


def test_numpy_1_to_2_is_one_changed_blas_finding(stack_np1, stack_np2, tmp_path):
    snaps = []
    for venv in (stack_np1, stack_np2):
        out = tmp_path / f"{venv.root.name}.json"
        _run([venv.python, "-m", "envparity", "snapshot", "--no-store", "-o", out], tmp_path)
        snaps.append(Snapshot.model_validate_json(out.read_text()))
    findings = [f for f in diff(*snaps).findings if f.category == "blas"]
    numpy_blas = [f for f in findings if f.key.startswith("numpy/blas")]
    assert [(f.key, f.change) for f in numpy_blas] == [("numpy/blas", "changed")]
    assert numpy_blas[0].baseline == "openblas 0.3.23.dev"
    assert numpy_blas[0].candidate == "openblas 0.3.29"
    assert all(f.change == "changed" for f in findings)  # no removed + added pairs
