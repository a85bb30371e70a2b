"""Numeric probes: fixed inputs, bit-for-bit repeatable, and a changed code path is named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envparity.bench import numerics, registry
from envparity.bench.compare import numeric_findings
from envparity.bench.numerics import encode, lcg_uniform, record, run_numerics
from envparity.model import NumericResult

from .helpers import python, without_numpy_env

_DUMP = (
    "import json; from envparity.bench.numerics import run_numerics; "
    "print(json.dumps([r.model_dump(mode='json') for r in run_numerics()]))"
)


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
    assert "relative difference" in found["numpy_exp_f64"].why or "bits differ" in found[
        "numpy_exp_f64"
    ].why


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
    assert results["broken"].status == "failed" and "ZeroDivisionError" in results["broken"].reason
    drifted = results["scale"].model_copy(update={"values": [1.5001, 3.0], "sha256": "0" * 64})
    assert numeric_findings([results["scale"]], [drifted])[0].severity == "info"
    drifted = drifted.model_copy(update={"values": [1.6, 3.0]})
    assert numeric_findings([results["scale"]], [drifted])[0].severity == "error"


def test_register_probe_rejects_bad_arguments() -> None:
    from envparity.errors import BadInput

    with pytest.raises(BadInput, match="rtol must be >= 0"):
        registry.register_probe("x", abs, 1.0, rtol=-1)
    with pytest.raises(BadInput, match="must be callable"):
        registry.register_probe("x", 3, 1.0)  # type: ignore[arg-type]


def test_outputs_of_every_kind_are_encoded() -> None:
    np = pytest.importorskip("numpy")
    dtype, shape, raw, values = encode(np.arange(6, dtype=np.float32).reshape(2, 3).T)
    assert (dtype, shape, len(raw), values) == ("float32", [3, 2], 24, [0, 3, 1, 4, 2, 5])
    assert encode(2.5)[:2] == ("float64", [])
    assert encode([[1, 2], [3, True]])[3] == [1.0, 2.0, 3.0, 1.0]
    failed = record("text", lambda: "not numbers")
    assert failed.status == "failed" and "not a number" in (failed.reason or "")


def test_without_numpy_numpy_probes_are_skipped_and_python_ones_run(tmp_path: Path) -> None:
    results = {r.name: r for r in _child_numerics(without_numpy_env(tmp_path))}
    assert results["py_sum"].status == "ok" and results["py_exp"].status == "ok"
    assert results["numpy_exp_f64"].status == "skipped"
    assert (results["numpy_exp_f64"].reason or "").startswith("NumPy is not installed")
    assert numerics.SAMPLE == 64
