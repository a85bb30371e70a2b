"""Convention probes: the same code gives other answers under another TZ, hash seed, NumPy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict

from envparity.parity.compare import compare_numerics

_DUMP = (
    "import json; from envparity.parity.conventions import run_conventions; "
    "print(json.dumps([r.model_dump(mode='json') for r in run_conventions()]))"
)


def _conventions(**env: str) -> list:
    environ = {k: v for k, v in os.environ.items() if k not in ("TZ", "PYTHONHASHSEED")}
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", _DUMP], capture_output=True, text=True, env=environ, check=True
    )
    return json.loads(done.stdout)


def _findings(base: list, cand: list) -> Dict[str, dict]:
    """The findings on the conventions' values. A probe's one-call time and memory are left out:
    on a loaded machine one side's call can take several times the other's, and the "slower"
    note that makes is about cost (tests/parity/test_compare.py), not about the convention."""

    def values(records: list) -> list:
        return [{k: v for k, v in r.items() if k not in ("wall_s", "peak_bytes")} for r in records]

    return {f["key"]: f for f in compare_numerics(values(base), values(cand))}


def test_the_same_settings_give_the_same_conventions():
    assert _findings(_conventions(TZ="UTC"), _conventions(TZ="UTC")) == {}


def test_local_dates_differ_between_utc_and_kiritimati_and_name_tz():
    found = _findings(_conventions(TZ="UTC"), _conventions(TZ="Pacific/Kiritimati"))
    f = found["convention_local_date"]
    assert f["severity"] == "error"
    assert "column 'local_date'" in f["why"] and "'2024-12-31' -> '2025-01-01'" in f["why"]
    assert "explained by TZ" in f["why"] and "TZ 'UTC' -> 'Pacific/Kiritimati'" in f["why"]
    assert set(found) == {"convention_local_date"}


def test_hash_order_differs_between_two_fixed_seeds_and_is_not_compared_when_random():
    one, two = _conventions(PYTHONHASHSEED="1"), _conventions(PYTHONHASHSEED="2")
    f = _findings(one, two)["convention_hash_order"]
    assert f["severity"] == "error" and "PYTHONHASHSEED '1' -> '2'" in f["why"]
    assert _findings(one, _conventions(PYTHONHASHSEED="1")) == {}
    rand = _conventions()
    (probe,) = [r for r in rand if r["name"] == "convention_hash_order"]
    assert probe["settings"] == {"PYTHONHASHSEED": "random"}
    assert "convention_hash_order" not in _findings(rand, _conventions())
    assert "convention_hash_order" not in _findings(one, rand)


def test_each_convention_probe_names_its_setting():
    for r in _conventions(TZ="UTC"):
        assert r["kind"] == "convention" and r["setting"], r


def _in_stack(stack) -> list:
    from _stacks import stack_env

    done = subprocess.run(
        [str(stack.python), "-c", _DUMP], capture_output=True, text=True, check=False,
        env=stack_env({"TZ": "UTC", "PYTHONHASHSEED": "0"}),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_pandas_option_appearing_with_its_default_is_no_finding(stack_np1, stack_np2):
    # pandas 2.0.3 has no future.infer_string; 2.2.3 has it, False: the same behaviour.
    old, new = _in_stack(stack_np1), _in_stack(stack_np2)
    pick = {r["name"]: r for r in old}["convention_pandas_defaults"]
    assert pick["status"] == "ok" and pick["settings"]["pandas"] == "2.0.3"
    assert "convention_pandas_defaults" not in _findings(old, new)
