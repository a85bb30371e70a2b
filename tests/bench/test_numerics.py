"""Numeric probes: fixed inputs, bit-for-bit repeatable, and a changed code path is named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envparity.bench import numerics, registry
from envparity.bench.numerics import lcg_uniform, record, run_numerics
from envparity.model import Finding, NumericResult
from envparity.parity.compare import compare_numerics
from envparity.parity.encode import decode_text, encode

from .helpers import python, without_numpy_env

_DUMP = (
    "import json; from envparity.bench.numerics import run_numerics; "
    "print(json.dumps([r.model_dump(mode='json') for r in run_numerics()]))"
)


def numeric_findings(base: list, cand: list) -> list:
    return [Finding(**f) for f in compare_numerics(base, cand)]


def _child_numerics(env=None) -> list:
    return [NumericResult.model_validate(r) for r in json.loads(python(_DUMP, env=env))]


def test_inputs_are_exact_and_fixed() -> None:
    values = lcg_uniform(4, seed=1)
    assert values == lcg_uniform(4, seed=1)
    # Pinned: a change of generator would silently make every stored probe differ.
    assert values[0] == -0.15358165825457348
    assert all(-1.0 <= v < 1.0 for v in lcg_uniform(1000, seed=7))


def test_same_environment_matches_bit_for_bit_across_processes() -> None:
    first, second = _child_numerics(), _child_numerics()
    assert [r.sha256 for r in first] == [r.sha256 for r in second]
    assert numeric_findings(first, second) == []
    by_name = {r.name: r for r in first}
    assert by_name["numpy_exp_f64"].status == "ok"
    assert by_name["numpy_exp_f64"].shape == [4096] and len(by_name["numpy_exp_f64"].values) == 64
    assert by_name["numpy_sum_f64"].shape == []  # a scalar stays a scalar
    assert by_name["torch_matmul_f32"].status in ("ok", "skipped")


def _avx512_targets() -> list:
    np = pytest.importorskip("numpy")
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    del np
    have = umath.__cpu_features__
    return [f for f in umath.__cpu_dispatch__ if ("AVX512" in f or f == "X86_V4") and have.get(f)]


def test_disabling_avx512_paths_is_named_with_its_relative_difference() -> None:
    targets = _avx512_targets()
    if not targets:
        pytest.skip("this CPU or NumPy build has no AVX-512 dispatch targets to turn off")
    base = _child_numerics()
    cand = _child_numerics({**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(targets)})
    found = {f.key: f for f in numeric_findings(base, cand)}
    assert "numpy_exp_f64" in found, found
    assert (
        "relative difference" in found["numpy_exp_f64"].why
        or "bits differ" in found["numpy_exp_f64"].why
    )


def test_register_probe_records_and_compares_within_tolerance() -> None:
    registry.register_probe("scale", lambda xs: [x * 1.5 for x in xs], [1.0, 2.0], rtol=1e-3)
    registry.register_probe("broken", lambda xs: 1 / 0, None)
    try:
        results = {r.name: r for r in run_numerics(builtin=False)}
    finally:
        registry.unregister("scale")
        registry.unregister("broken")
    assert set(results) == {"scale", "broken"}
    assert results["scale"].values == [1.5, 3.0] and results["scale"].rtol == 1e-3
    assert results["scale"].atol == 1e-9 and results["scale"].kind == "user"
    assert results["broken"].status == "failed" and "ZeroDivisionError" in results["broken"].reason

    def scaled(factor: float) -> NumericResult:
        return record("scale", lambda: [1.5 * factor, 3.0], rtol=1e-3)

    assert numeric_findings([results["scale"]], [scaled(1.0001)])[0].severity == "info"
    assert numeric_findings([results["scale"]], [scaled(1.1)])[0].severity == "error"


def test_register_probe_rejects_bad_arguments() -> None:
    from envparity.errors import BadInput

    with pytest.raises(BadInput, match="rtol must be >= 0"):
        registry.register_probe("x", abs, 1.0, rtol=-1)
    with pytest.raises(BadInput, match="atol must be a number"):
        registry.register_probe("x", abs, 1.0, atol="tight")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="must be callable"):
        registry.register_probe("x", 3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=r"columns\['a'\] must be a mapping of rtol, atol and exact"):
        registry.register_probe("x", abs, 1.0, columns={"a": {"rtl": 1}})
    with pytest.raises(BadInput, match="max_bytes"):
        registry.register_probe("x", abs, 1.0, max_bytes=-1)


def test_register_probe_columns_and_cap_reach_the_record() -> None:
    registry.register_probe(
        "cols", lambda d: d, {"a": [1.0], "id": [1]}, columns={"a": {"atol": 0.5}}, max_bytes=10
    )
    try:
        (r,) = run_numerics(builtin=False)
    finally:
        registry.unregister("cols")
    assert r.columns["a"].atol == 0.5 and r.max_bytes == 10 and r.partial


def test_outputs_of_every_kind_are_encoded() -> None:
    np = pytest.importorskip("numpy")
    enc = encode(np.arange(6, dtype=np.float32).reshape(2, 3).T)
    col = decode_text(enc.text).columns[0]
    assert (col.dtype, col.shape, col.data.ravel().tolist()) == (
        "float32",
        [3, 2],
        [0, 3, 1, 4, 2, 5],
    )
    assert encode(2.5).output.form == "scalar"
    flat = decode_text(encode([[1, 2], [3, 4]]).text).columns[0]
    assert (flat.dtype, list(flat.data)) == ("int64", [1, 2, 3, 4])
    text = record("text", lambda: "not numbers")
    assert text.status == "ok" and text.dtype == "str"  # strings are outputs too, compared exactly
    failed = record("obj", lambda: object())
    assert failed.status == "failed" and "TypeError" in (failed.reason or "")


def test_without_numpy_numpy_probes_are_skipped_and_python_ones_run(tmp_path: Path) -> None:
    results = {r.name: r for r in _child_numerics(without_numpy_env(tmp_path))}
    assert results["py_sum"].status == "ok" and results["py_exp"].status == "ok"
    assert results["numpy_exp_f64"].status == "skipped"
    assert (results["numpy_exp_f64"].reason or "").startswith("NumPy is not installed")
    assert numerics.SAMPLE == 64
