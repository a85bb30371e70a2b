"""The shared loader for the files users give envparity: snapshot JSON and policy TOML."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envparity.errors import BadInput
from envparity.inputs import MAX_DEPTH, load_json, read_text
from envparity.policy import load_policy
from envparity.refs import load_file


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_loads_and_beyond_it_is_one_bad_input(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    ok.write_text(_nested(MAX_DEPTH))
    assert load_json(str(ok)) is not None
    for depth in (MAX_DEPTH + 1, 5_000, 200_000):  # the last would be a RecursionError
        deep = tmp_path / f"deep{depth}.json"
        deep.write_text(_nested(depth))
        with pytest.raises(BadInput, match="nests deeper than 100 levels") as e:
            load_file(str(deep))
        assert str(deep) in str(e.value) and "\n" not in str(e.value)


def test_a_deeply_nested_policy_is_bad_input(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("fail_on = " + _nested(20_000) + "\n")
    with pytest.raises(BadInput, match="nests deeper"):
        load_policy(str(policy))


def test_special_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(BadInput, match="a FIFO"):
        load_file(str(fifo))  # would block forever if opened
    with pytest.raises(BadInput, match="a device"):
        load_file("/dev/zero")  # would never end
    with pytest.raises(BadInput, match="a directory"):
        load_file(str(tmp_path))
    with pytest.raises(BadInput, match="a FIFO"):
        load_policy(str(fifo))


def test_the_size_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "y" * 2000}))
    assert load_json(str(big))["x"] == "y" * 2000
    monkeypatch.setenv("ENVPARITY_MAX_INPUT_BYTES", "1000")
    with pytest.raises(BadInput, match="larger than 1000 bytes; raise ENVPARITY_MAX_INPUT_BYTES"):
        read_text(str(big))
    monkeypatch.setenv("ENVPARITY_MAX_INPUT_BYTES", "lots")
    with pytest.raises(BadInput, match="ENVPARITY_MAX_INPUT_BYTES='lots'"):
        read_text(str(big))


def test_not_utf8_and_not_json_name_the_file(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"k": "\xff"}')
    with pytest.raises(BadInput, match="not UTF-8"):
        load_file(str(latin))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(BadInput, match="not JSON"):
        load_file(str(broken))
