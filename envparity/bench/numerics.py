"""Numeric probes: fixed computations on fixed inputs, recorded whole and compared value by value.

Inputs come from a 64-bit LCG mapped to floats with exact arithmetic (``(state >> 11) * 2**-53``),
never from an RNG's distributions, whose algorithms change between library versions, and never
from ``sin``/``cos`` of the index, which depend on the C library. So two environments feed the
probes the same bits, and any difference in the outputs comes from the code path: another SIMD
kernel, another BLAS, another build.

Each output is recorded as :class:`~envparity.model.NumericResult`: the whole output, encoded and
compressed by :mod:`envparity.parity.encode` (up to a cap; beyond it only a digest and a sample),
its sha256, ``SAMPLE`` evenly spaced values, the call's wall time and peak Python allocations
(tracemalloc), and the top-level modules loaded when it ran (so a finding can name the library
whose version changed). :mod:`envparity.parity.compare` compares two records.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from . import registry
from .record import SAMPLE as SAMPLE  # re-exported: the sample size is part of this API
from .record import max_bytes as max_bytes
from .record import record as record
from .record import record_data as record_data
from .suite import require

if TYPE_CHECKING:
    from ..model import NumericResult

_N = 4096  # elements per vector input; matrices are 64x64
_MASK = (1 << 64) - 1


def lcg_uniform(n: int, seed: int = 1) -> List[float]:
    """``n`` floats in [-1, 1) from a 64-bit LCG (Knuth's MMIX constants), exactly reproducible.

    Every step is exact in binary floating point: a 53-bit integer times 2**-53, times 2, minus 1.
    """
    state = seed & _MASK
    out = []
    for _ in range(n):
        state = (6364136223846793005 * state + 1442695040888963407) & _MASK
        out.append((state >> 11) * 2.0**-53 * 2.0 - 1.0)
    return out


# --- built-in probes ----------------------------------------------------------------------------

_cache: Dict[str, Any] = {}


def _pool() -> List[float]:
    if "pool" not in _cache:
        _cache["pool"] = lcg_uniform(2 * _N, seed=20240917)
    return _cache["pool"]  # type: ignore[no-any-return]


def _vec(np: Any, dtype: str = "float64", scale: float = 1.0) -> Any:
    # Scales are powers of two: exact, so float32 inputs are the rounded float64 ones.
    return (np.array(_pool()[:_N], dtype=np.float64) * scale).astype(dtype)


def _mat(np: Any, which: int = 0, dtype: str = "float64") -> Any:
    start = which * _N
    return np.array(_pool()[start : start + _N], dtype=np.float64).reshape(64, 64).astype(dtype)


def _softmax(np: Any) -> Any:
    logits = _mat(np) * 8.0
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _solve(np: Any) -> Any:
    a = _mat(np) + 64.0 * np.eye(64)  # diagonally dominant: well conditioned
    b = _mat(np, 1)[:, 0].copy()
    return np.linalg.solve(a, b)


def _py_exp() -> List[float]:
    return [math.exp(v * 4.0) for v in _pool()[:256]]


def _py_sum() -> float:
    # Left-to-right float addition: pins down the interpreter's own arithmetic.
    total = 0.0
    for v in _pool()[:_N]:
        total += v
    return total


def _numpy_probes() -> Dict[str, Callable[[], Any]]:
    def p(fn: Callable[[Any], Any]) -> Callable[[], Any]:
        return lambda: fn(require("numpy"))

    return {
        "numpy_sum_f64": p(lambda np: np.sum(_vec(np))),
        "numpy_sum_f32": p(lambda np: np.sum(_vec(np, "float32"))),
        "numpy_dot_f64": p(lambda np: np.dot(_vec(np), _mat(np, 1).ravel())),
        "numpy_gemm_f64": p(lambda np: _mat(np) @ _mat(np, 1)),
        "numpy_gemm_f32": p(lambda np: _mat(np, 0, "float32") @ _mat(np, 1, "float32")),
        "numpy_exp_f64": p(lambda np: np.exp(_vec(np, scale=4.0))),
        "numpy_exp_f32": p(lambda np: np.exp(_vec(np, "float32", 4.0))),
        "numpy_log_f64": p(lambda np: np.log(_vec(np) + 1.5)),
        "numpy_tanh_f64": p(lambda np: np.tanh(_vec(np, scale=4.0))),
        "numpy_tanh_f32": p(lambda np: np.tanh(_vec(np, "float32", 4.0))),
        "numpy_softmax_f64": p(_softmax),
        "numpy_solve_f64": p(_solve),
    }


def _torch_probes() -> Dict[str, Callable[[], Any]]:
    def matmul() -> Any:
        torch = require("torch")
        a = torch.tensor(_pool()[:_N], dtype=torch.float32).reshape(64, 64)
        b = torch.tensor(_pool()[_N:], dtype=torch.float32).reshape(64, 64)
        return a @ b

    def exp() -> Any:
        torch = require("torch")
        return torch.exp(torch.tensor(_pool()[:_N], dtype=torch.float32) * 4.0)

    return {"torch_matmul_f32": matmul, "torch_exp_f32": exp}


def builtin_probes() -> Dict[str, Callable[[], Any]]:
    """The built-in probes by name (pure Python, NumPy, torch); none runs until called."""
    probes: Dict[str, Callable[[], Any]] = {"py_sum": _py_sum, "py_exp": _py_exp}
    probes.update(_numpy_probes())
    probes.update(_torch_probes())
    return probes


def run_registered(names: Optional[List[str]] = None) -> List[NumericResult]:
    """Run the registered probes (``names``: only those), each with its own tolerances."""
    from ..model import NumericResult

    return [NumericResult(**data) for data in run_registered_data(names)]


def run_registered_data(names: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """:func:`run_registered` as plain ``NumericResult`` fields (no pydantic)."""
    results = []
    for probe in registry.probes():
        if names is not None and probe.name not in names:
            continue
        results.append(
            record_data(
                probe.name,
                functools.partial(probe.fn, probe.inputs),
                probe.rtol,
                atol=probe.atol,
                columns=probe.columns,
                cap=probe.max_bytes,
                kind="user",
            )
        )
    return results


def run_numerics(
    *, builtin: bool = True, conventions: Optional[bool] = None
) -> List[NumericResult]:
    """Run the built-in probes and the convention probes (unless ``builtin=False``; the
    convention ones follow ``builtin`` unless ``conventions`` says otherwise), then every
    registered one.

    Probes run in this process: their outputs do not depend on process noise. NumPy or torch not
    installed: their probes are recorded as skipped with the reason.
    """
    results = []
    if builtin:
        for name, fn in builtin_probes().items():
            results.append(record(name, fn, kind="builtin"))
    if builtin if conventions is None else conventions:
        from ..parity.conventions import run_conventions

        results.extend(run_conventions())
    results.extend(run_registered())
    return results
