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


# --- the surrogate check reads the JSON text first -----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from envparity.inputs import check_depth, stored_json  # noqa: E402

# Any code point, lone surrogates included (category Cs), nested a few levels deep.
_TEXT = st.text(st.characters(blacklist_categories=()), max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _verdict(call) -> str:
    try:
        call()
    except BadInput as e:
        return "surrogate" if "surrogate" in str(e) else "deep"
    return "ok"


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(min_value=1, max_value=6), st.booleans())
def test_reading_the_text_first_refuses_exactly_what_the_full_walk_refuses(
    value, limit, ascii_only
) -> None:
    """Skipping the strings when the text holds no surrogate escape (nor, in bytes, a surrogate
    encoded as UTF-8) must refuse the same values, for the same reason, as walking them all."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    parsed = json.loads(text)
    walked = _verdict(lambda: check_depth(parsed, "x", limit=limit))
    assert _verdict(lambda: check_depth(parsed, "x", limit=limit, text=text)) == walked
    data = text.encode("utf-8", "surrogatepass")  # a driver's bytes, however they came
    assert _verdict(lambda: check_depth(json.loads(data), "x", limit=limit, text=data)) == walked


@pytest.mark.parametrize("raw", ['{"a": ["\\ud800"]}', '{"\\uDFFF": 1}', b'["\xed\xa0\x80"]'])
def test_a_stored_row_with_a_lone_surrogate_is_still_bad_input(raw) -> None:
    with pytest.raises(BadInput, match="lone surrogate"):
        stored_json(raw)
    assert stored_json('{"a": "\\ud83d\\ude00 caf\\u00e9"}') == {"a": "\U0001f600 café"}
