"""One snapshot pipeline behind every door: what the CLI refuses, the library refuses too."""

from __future__ import annotations

import sys

import pytest
from _support import isolated_env, run_cli

import envparity
from envparity.errors import BadInput


def test_library_refuses_numerics_measured_here_for_another_interpreter() -> None:
    # Before: the other interpreter's snapshot came back with numbers measured in this one.
    with pytest.raises(BadInput, match="not --python's"):
        envparity.snapshot(python=sys.executable, numerics=True)


def test_cli_refuses_the_same_request_with_exit_2(tmp_path) -> None:
    env = isolated_env(tmp_path, tmp_path / "home")
    result = run_cli("snapshot", "--no-store", "--python", sys.executable, "--numerics", env=env)
    assert result.returncode == 2, result.stderr
    assert "not --python's" in result.stderr
    assert "Traceback" not in result.stderr
