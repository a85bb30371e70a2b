"""Whole-output comparison with real NumPy: every value, per column, NumPy's isclose rule."""

from __future__ import annotations

import json
import math

import pytest

from envparity.bench.numerics import record
from envparity.model import NumericResult
from envparity.parity.compare import compare_numerics, compare_probe
from envparity.parity.encode import decode_text, encode

np = pytest.importorskip("numpy")

FINDING_KEYS = {"category", "key", "baseline", "candidate", "change", "severity", "why"}


def _rec(value, name="p", **kw) -> dict:
    """A probe record as it travels in a snapshot's JSON (through a JSON round trip)."""
    r = record(name, lambda: value, **kw)
    return json.loads(r.model_dump_json())


def _table(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((10_000, 3))


def test_one_cell_changed_by_one_percent_in_10000_x_3_is_an_error_naming_column_row_index():
    base = _table()
    cand = base.copy()
    cand[4711, 1] *= 1.01
    for shape in ("array", "mapping"):
        b_out = base if shape == "array" else {"a": base[:, 0], "b": base[:, 1], "c": base[:, 2]}
        c_out = cand if shape == "array" else {"a": cand[:, 0], "b": cand[:, 1], "c": cand[:, 2]}
        pc = compare_probe("features", _rec(b_out), _rec(c_out))
        column = "1" if shape == "array" else "b"
        assert pc.severity == "error", pc.why
        (bad,) = [c for c in pc.columns if c.failed]
        assert (bad.name, bad.diverging, bad.rows) == (column, 1, 10_000)
        assert bad.examples[0][0] == 4711
        assert bad.examples[0][1:] == (base[4711, 1], cand[4711, 1])
        assert math.isclose(bad.max_rel or 0, 0.01, rel_tol=1e-9)
        assert f"column '{column}': 1 of 10000 rows (0.01%) differ" in pc.why
        assert "row 4711:" in pc.why


def test_identical_outputs_say_nothing_and_findings_are_plain_dicts():
    a, b = _rec(_table(), "x"), _rec(_table(), "x")
    assert a["sha256"] == b["sha256"]
    assert compare_numerics([a], [b]) == []
    changed = _rec(_table() * 2, "x")
    (f,) = compare_numerics([a], [changed])
    assert set(f) == FINDING_KEYS and f["category"] == "numerics" and f["key"] == "x"
    assert f["severity"] == "error" and f["change"] == "changed"
    # Models are accepted too, as the diff passes them.
    assert compare_numerics([NumericResult(**a)], [NumericResult(**changed)]) == [f]


def test_atol_keeps_zero_against_1e_17_quiet_and_is_the_reason_why():
    base, cand = _rec([0.0, 1.0]), _rec([1e-17, 1.0])
    pc = compare_probe("p", base, cand)
    assert pc.severity == "info" and pc.verdict == "within"  # bits differ, values match
    strict_b, strict_c = _rec([0.0, 1.0], atol=0.0), _rec([1e-17, 1.0], atol=0.0)
    assert compare_probe("p", strict_b, strict_c).severity == "error"


def test_isclose_rule_with_the_baseline_as_reference_and_nan_equal_in_place():
    # |a - b| <= atol + rtol * |b|: b is the baseline's value, as in numpy.isclose(a, b).
    assert compare_probe("p", _rec([100.0]), _rec([100.001])).severity == "error"
    assert compare_probe("p", _rec([100.0], rtol=1e-5), _rec([100.0009])).severity == "info"
    nan = float("nan")
    assert (
        compare_probe("p", _rec(np.array([nan, 1.0])), _rec(np.array([nan, 1.0]))).severity is None
    )
    moved = compare_probe("p", _rec(np.array([nan, 1.0])), _rec(np.array([1.0, nan])))
    assert moved.severity == "error" and moved.columns[0].diverging == 2
    inf = compare_probe("p", _rec(np.array([np.inf])), _rec(np.array([np.inf])))
    assert inf.severity is None


def test_integers_strings_and_booleans_compare_exactly_whatever_the_tolerance():
    ints = compare_probe("p", _rec({"id": [1, 2, 3]}, rtol=0.5), _rec({"id": [1, 2, 4]}, rtol=0.5))
    assert ints.severity == "error" and "(exactly)" in ints.why
    text = compare_probe("p", _rec({"s": ["a", "b"]}), _rec({"s": ["a", "B"]}))
    assert text.severity == "error" and "row 1: 'b' -> 'B'" in text.why
    flags = compare_probe("p", _rec(np.array([True, False])), _rec(np.array([True, True])))
    assert flags.severity == "error"


def test_per_column_overrides_apply_and_the_baselines_tolerances_win():
    base = {"score": [1.0, 2.0], "ratio": [0.5, 0.25]}
    cand = {"score": [1.001, 2.0], "ratio": [0.5, 0.25]}
    loose = {"score": {"rtol": 1e-2}}
    assert compare_probe("p", _rec(base, columns=loose), _rec(cand, columns=loose)).severity == (
        "info"
    )
    exact = {"ratio": {"exact": True}}
    cand2 = {"score": [1.0, 2.0], "ratio": [0.5, 0.25 + 1e-15]}
    pc = compare_probe("p", _rec(base, columns=exact), _rec(cand2, columns=exact))
    assert pc.severity == "error" and "column 'ratio'" in pc.why
    # The candidate registered a looser rtol: the baseline's applies, and the finding says so.
    pc = compare_probe("p", _rec(base), _rec(cand, columns=loose))
    assert pc.severity == "error"
    assert (
        "the candidate registered other tolerances" in pc.why and "the baseline's apply" in pc.why
    )


def test_shape_and_dtype_changes_are_errors():
    pc = compare_probe("p", _rec(np.zeros(4)), _rec(np.zeros(5)))
    assert pc.severity == "error" and "float64[4]" in pc.why and "float64[5]" in pc.why
    pc = compare_probe("p", _rec(np.zeros(4)), _rec(np.zeros(4, dtype=np.float32)))
    assert pc.severity == "error" and "dtype changed from float64 to float32" in pc.why
    pc = compare_probe("p", _rec({"a": [1.0]}), _rec({"a": [1.0], "b": [2.0]}))
    assert pc.severity == "error" and "columns ['b'] new" in pc.why


def test_a_probe_raising_on_one_side_only_is_an_error_quoting_type_and_message():
    ok = json.loads(record("p", lambda: [1.0]).model_dump_json())

    def broken():
        raise AttributeError("'DecisionTreeClassifier' object has no attribute 'monotonic_cst'")

    failed = json.loads(record("p", broken).model_dump_json())
    pc = compare_probe("p", ok, failed)
    assert pc.severity == "error" and "raised only on the candidate" in pc.why
    assert "AttributeError: 'DecisionTreeClassifier' object has no attribute 'monotonic_cst'" in (
        pc.why
    )
    assert compare_probe("p", failed, ok).severity == "error"
    both = compare_probe("p", failed, failed)
    assert both.severity == "warning" and "raised on both sides" in both.why


def test_over_the_cap_is_partial_never_a_match():
    base = _table()
    cand = base.copy()
    cand[5, 2] += 1e-3  # not among the sampled values
    b, c = _rec(base, cap=1000), _rec(cand, cap=1000)
    assert b["partial"] and b["output"] is None and b["output_bytes"] > 1000
    pc = compare_probe("p", b, c)
    assert pc.verdict == "partial" and pc.severity == "warning"
    assert "partial comparison" in pc.why and "cap" in pc.why
    # A difference the sample does show is an error even so.
    far = _rec(base * 2, cap=1000)
    assert compare_probe("p", b, far).severity == "error"


def test_the_cap_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("ENVPARITY_PROBE_MAX_BYTES", "100")
    assert _rec(_table())["partial"] is True
    monkeypatch.delenv("ENVPARITY_PROBE_MAX_BYTES")
    r = _rec(_table())
    assert r["partial"] is False and r["max_bytes"] == 8 * 1024 * 1024


def test_every_tabular_form_round_trips():
    rec = np.array([(1, 2.5, b"x"), (2, 3.5, b"y")], dtype=[("id", "i4"), ("v", "f8"), ("s", "S1")])
    out = decode_text(_rec(rec)["output"])
    assert out.form == "table" and [c.name for c in out.columns] == ["id", "v", "s"]
    assert [c.kind for c in out.columns] == ["int", "float", "str"]
    records = [{"id": 1, "v": 0.5, "tag": "a"}, {"id": 2, "v": None, "tag": None}]
    out = decode_text(_rec(records)["output"])
    assert [c.dtype for c in out.columns] == ["int64", "float64", "str"]
    assert math.isnan(out.columns[1].data[1]) and out.columns[2].data == ["a", None]
    dates = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")
    assert decode_text(_rec(dates)["output"]).columns[0].kind == "time"
    assert (
        encode(2.5).output.form == "scalar" and encode(np.float32(1)).output.columns[0].shape == []
    )


def test_an_output_that_is_not_data_is_a_failed_probe():
    r = record("p", lambda: object())
    assert r.status == "failed" and "TypeError" in (r.reason or "")


def test_wall_time_and_peak_allocations_are_recorded():
    r = record("p", lambda: np.ones(1_000_000))
    assert r.wall_s is not None and r.wall_s > 0
    assert r.peak_bytes is not None and r.peak_bytes >= 8_000_000
    assert "numpy" in r.loaded


def test_same_results_but_far_slower_or_bigger_shows_next_to_the_values():
    base = dict(_rec([1.0, 2.0]), wall_s=0.01, peak_bytes=2**20)
    slow = dict(base, wall_s=0.5, peak_bytes=40 * 2**20)
    pc = compare_probe("p", base, slow)
    assert pc.severity == "info" and "identical outputs" in pc.why
    assert "50.0x slower (10 ms -> 500 ms, one call)" in pc.why
    assert "40.0x the memory (peak 1.0 MiB -> 40.0 MiB)" in pc.why
    jitter = dict(base, wall_s=0.03)  # 3x of 10 ms: a single call's noise, not news
    assert compare_probe("p", base, jitter).severity is None


def test_the_same_tolerances_spelled_two_ways_are_not_other_tolerances():
    """A stored record (NumericResult: column overrides with ``atol: null, exact: false``) and a
    trial child's plain record registered the same tolerances: no note says otherwise."""
    from envparity.bench.numerics import record_data

    values = _table()
    columns = {"0": {"rtol": 1e-3}}
    base = _rec(values, "p", columns=columns)
    cand = json.loads(json.dumps(record_data("p", lambda: values * (1 + 1e-12), columns=columns)))
    assert base["columns"] != cand["columns"]  # spelled differently
    pc = compare_probe("p", base, cand)
    assert pc.verdict == "within", pc.why
    assert "other tolerances" not in pc.why
    other = json.loads(json.dumps(record_data("p", lambda: values, columns={"0": {"rtol": 1e-2}})))
    assert "the candidate registered other tolerances" in compare_probe("p", base, other).why
