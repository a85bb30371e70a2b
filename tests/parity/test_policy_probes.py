"""[tool.envparity] probes, and unknown keys as a warning (newer pyproject, older envparity)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envparity.errors import BadInput
from envparity.policy import load_policy


def test_probes_are_read_and_an_unknown_key_is_a_warning_naming_its_line(tmp_path: Path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.envparity]\nprobes = ["mypkg.parity"]\nfail_on = "warning"\nnewer_key = 3\n'
    )
    policy = load_policy(cwd=str(tmp_path))
    assert policy.probes == ["mypkg.parity"] and policy.fail_on == "warning"
    err = capsys.readouterr().err
    assert "pyproject.toml line 4: [tool.envparity] newer_key: unknown policy key, ignored" in err


def test_probes_must_be_a_list_of_module_names(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.envparity]\nprobes = [1]\n")
    with pytest.raises(BadInput, match="line 2: .*probes: expected a list of module names"):
        load_policy(cwd=str(tmp_path))
