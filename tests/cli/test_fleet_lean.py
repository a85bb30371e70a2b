"""``envparity fleet`` without Typer: the fast path prints what the Typer command prints.

A real SQLite store holds snapshots of this interpreter under two roles and a tag; each command
line then runs twice in child processes, through the console entry point (the fast path) and
through the Typer app, and must give the same exit code, stdout and stderr, with no Typer or
Click imported on the fast path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from _support import REPO, importtime_split, isolated_env

_TYPER = (
    "import sys; from envparity.cli import load; sys.argv[0] = 'envparity'; "
    "load(('run',))()"
)


def _env(root: Path, **extra: str) -> Dict[str, str]:
    """The fixture's store and state under ``root``: ENVPARITY_HOME is ``root/home``."""
    return isolated_env(root, root / "home", PYTHONPATH=str(REPO), **extra)


def _cli(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "envparity", *args], capture_output=True, text=True,
        cwd=str(home), env=_env(home, **extra),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fleet")
    _cli(home, "snapshot", "--role", "training", "--label", "model=fraud")
    _cli(home, "tag", "latest", "fraud-train")
    for _ in range(2):
        _cli(home, "snapshot", "--role", "serving", "--label", "model=fraud")
    return home


def _both(home: Path, args: List[str], **extra: str) -> Tuple[Tuple, Tuple]:
    runs = []
    for cmd in (["-m", "envparity"], ["-c", _TYPER]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *cmd, "fleet", *args],
            capture_output=True, text=True, cwd=str(home), env=_env(home, **extra),
        )  # fmt: skip
        imported, stderr = importtime_split(done.stderr)
        runs.append((done.returncode, done.stdout, stderr, imported))
    return runs[0], runs[1]


@pytest.mark.parametrize(
    "args, extra",
    [
        ([], {}),
        (["--baseline", "fraud-train", "--role", "serving"], {}),
        (["--role=serving", "--format", "JSON", "--label", "model=fraud"], {}),
        (["--json", "--since", "2000-01-01"], {"ENVPARITY_BASELINE": "fraud-train"}),
        (["-f", "markdown", "--baseline", "fraud-train"], {}),
        (["--format", "openmetrics", "--metric-label", "model"],
         {"ENVPARITY_BASELINE": "fraud-train"}),
    ],
)  # fmt: skip
def test_the_fast_path_prints_what_the_typer_command_prints(home, args, extra):
    fast, typer = _both(home, args, **extra)
    assert fast[0] == typer[0] == 0, (fast[2], typer[2])
    if "json" in [a.lower() for a in args] or "--json" in args:
        import json

        assert json.loads(fast[1]) == json.loads(typer[1])
    else:
        assert fast[1] == typer[1]
    assert fast[2] == typer[2]
    assert fast[1].strip(), "an empty view would compare nothing"
    assert "typer" in typer[3] and not fast[3] & {"typer", "click"}, fast[3] & {"typer", "click"}


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday-ish"],
        ["--baseline", "no-such-tag"],
        ["--label", "no-equals-sign"],
        ["--output", "/nonexistent-dir/fleet.txt"],
    ],
)
def test_bad_input_is_the_same_one_line_error_either_way(home, args):
    fast, typer = _both(home, args)
    assert fast[0] == typer[0] != 0, (fast[2], typer[2])
    assert fast[2] == typer[2] and fast[2].startswith("envparity: error: "), fast[2]
    assert "Traceback" not in fast[2]
    assert not fast[3] & {"typer", "click"}


@pytest.mark.parametrize("args", [["--help"], ["--format", "yaml"], ["--role"]])
def test_what_the_fast_path_cannot_take_goes_to_typer(home, args):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "envparity", "fleet", *args],
        capture_output=True, text=True, cwd=str(home), env=_env(home),
    )  # fmt: skip
    assert "| typer" in done.stderr, done.stderr[-2000:]
    assert ("Usage" in done.stdout) if args == ["--help"] else (done.returncode == 2), (
        done.stdout + done.stderr[-2000:]
    )
