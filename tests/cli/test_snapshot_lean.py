"""``envparity snapshot --no-store`` without Typer: the fast path behaves as the Typer command.

Each command line runs twice in child processes: through the console entry point (which takes the
fast path for a well-formed ``--no-store``) and through the Typer app itself. Same exit code, same
stderr lines, same recorded role and labels; and the fast path imports no Typer, Click, pydantic
or SQLAlchemy.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from _support import REPO, importtime_split, isolated_env

HEAVY = {"typer", "click", "pydantic", "sqlalchemy", "rich"}

# The Typer command, whatever the entry point would choose.
_TYPER = (
    "import sys; from envparity.cli import load; sys.argv[0] = 'envparity'; "
    "load(('snapshot',))()"
)


def _env(tmp_path: Path, **extra: str) -> Dict[str, str]:
    return isolated_env(tmp_path, tmp_path / "home", PYTHONPATH=str(REPO), **extra)


def _both(tmp_path: Path, args: List[str], **extra: str) -> Tuple[Tuple, Tuple]:
    """(fast path, Typer): each (exit code, stderr with ids masked, stdout)."""
    runs = []
    for way, cmd in (("fast", ["-m", "envparity"]), ("typer", ["-c", _TYPER])):
        argv = [a.replace("{way}", way) for a in args]
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *cmd, "snapshot", *argv],
            capture_output=True, text=True, cwd=str(tmp_path), env=_env(tmp_path, **extra),
        )  # fmt: skip
        imported, rest = importtime_split(done.stderr)
        text = re.sub(r"snapshot [0-9a-f]{12} ", "snapshot ID ", rest)
        runs.append((done.returncode, text.replace(way, "WAY"), done.stdout, imported))
    return runs[0], runs[1]


@pytest.mark.parametrize(
    "args",
    [
        ["--no-store", "-o", "{way}.json"],
        ["--role", "ci", "--label", "model=fraud", "--label", "team = risk ", "--no-store",
         "--output={way}.json"],
        ["--no-store", "--format", "JSON"],
        ["--json", "--no-store", "-o", "{way}.json", "--role=serving"],
    ],
)  # fmt: skip
def test_the_fast_path_writes_what_the_typer_command_writes(tmp_path: Path, args: List[str]):
    fast, typer = _both(tmp_path, args, ENVPARITY_LABELS="region=eu")
    assert fast[0] == typer[0] == 0, (fast[1], typer[1])
    assert fast[1] == typer[1]  # the same summary line, the file named the same way
    assert "typer" in typer[3] and not fast[3] & HEAVY, fast[3] & HEAVY
    datas = []
    for way, run in (("fast", fast), ("typer", typer)):
        written = tmp_path / f"{way}.json"
        text = written.read_text() if written.exists() else run[2]
        datas.append(json.loads(text))
        if "--json" in args or "--format" in args:
            assert json.loads(run[2])["snapshot_id"] == datas[-1]["snapshot_id"]  # on stdout too
    for key in ("role", "labels", "fingerprint", "schema_version"):
        assert datas[0][key] == datas[1][key], key
    assert datas[0]["labels"]["region"] == "eu"


@pytest.mark.parametrize(
    "args",
    [
        ["--no-store", "--label", "no-equals-sign"],
        ["--no-store", "-o", "/nonexistent-dir/x.json"],
        ["--no-store", "--model", "/nonexistent-dir/model.pkl"],
    ],
)
def test_bad_input_is_the_same_one_line_error_either_way(tmp_path: Path, args: List[str]):
    fast, typer = _both(tmp_path, args)
    assert fast[0] == typer[0] == 2, (fast[1], typer[1])
    assert fast[1] == typer[1] and fast[1].startswith("envparity: error: ")
    assert len(fast[1].splitlines()) == 1 and "Traceback" not in fast[1]
    assert not fast[3] & HEAVY


@pytest.mark.parametrize(
    "args, says",
    [
        (["--help"], "Usage"),
        (["--no-store", "--format", "xml"], "xml"),
        (["-o", "x.json"], "stored in"),  # storing: the Typer command's path
    ],
)
def test_what_the_fast_path_cannot_take_goes_to_typer(tmp_path: Path, args: List[str], says: str):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "envparity", "snapshot", *args],
        capture_output=True, text=True, cwd=str(tmp_path),
        env=_env(tmp_path, ENVPARITY_DB_URL=f"sqlite:///{tmp_path / 's.db'}"),
    )  # fmt: skip
    assert "| typer" in done.stderr, done.stderr[-2000:]
    assert says in done.stdout + done.stderr, done.stdout + done.stderr[-2000:]
