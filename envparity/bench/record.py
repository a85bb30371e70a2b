"""Running one numeric probe and recording its output: the one definition of a probe record.

:func:`record_data` returns the plain fields of a :class:`~envparity.model.NumericResult` (no
pydantic: bisect's trial children run where envparity's dependencies may not be installed);
:func:`record` wraps them in the model. Built-in, convention and registered probes all go through
here (:mod:`envparity.bench.numerics` and :mod:`envparity.parity.conventions` import it, neither
imports the other).
"""

from __future__ import annotations

import math
import os
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional

from .suite import Skip

if TYPE_CHECKING:
    from ..model import NumericResult

SAMPLE = 64


def max_bytes(given: Optional[int] = None) -> int:
    """The cap on a probe's compressed output: ``given``, else ENVPARITY_PROBE_MAX_BYTES, else
    8 MiB (an unreadable variable falls back to the default)."""
    from ..parity.encode import DEFAULT_MAX_BYTES, MAX_BYTES_ENV

    if given is not None:
        return given
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    try:
        return int(text) if text else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


def _loaded() -> List[str]:
    """Top-level modules loaded now, minus the standard library and private ones."""
    stdlib: frozenset = getattr(sys, "stdlib_module_names", frozenset())
    names = {name.partition(".")[0] for name in list(sys.modules)}
    return sorted(
        n for n in names if n not in stdlib and not n.startswith("_") and n != "envparity"
    )


def _finite(values: List[float]) -> List[float]:
    # JSON has no NaN or infinity: a sample holding one is left out (the whole output is kept).
    return values if all(math.isfinite(v) for v in values) else []


def record(
    name: str,
    fn: Callable[[], Any],
    rtol: float = 1e-6,
    *,
    atol: float = 1e-9,
    columns: Optional[Mapping[str, Mapping[str, Any]]] = None,
    cap: Optional[int] = None,
    kind: Optional[str] = None,
    setting: Optional[str] = None,
    settings: Optional[Callable[[], Dict[str, Optional[str]]]] = None,
) -> NumericResult:
    """Run one probe and record it; a probe that raises is ``failed`` with its type and message.

    The call is timed and its peak Python allocations measured with tracemalloc (started for
    the call when nobody traces already). ``settings()``, for convention probes, gives the values
    of the settings that explain the output.
    """
    from ..model import NumericResult

    return NumericResult(
        **record_data(
            name, fn, rtol, atol=atol, columns=columns, cap=cap, kind=kind, setting=setting,
            settings=settings,
        )
    )


def record_data(
    name: str,
    fn: Callable[[], Any],
    rtol: float = 1e-6,
    *,
    atol: float = 1e-9,
    columns: Optional[Mapping[str, Mapping[str, Any]]] = None,
    cap: Optional[int] = None,
    kind: Optional[str] = None,
    setting: Optional[str] = None,
    settings: Optional[Callable[[], Dict[str, Optional[str]]]] = None,
) -> Dict[str, Any]:
    """:func:`record` as the plain fields of a ``NumericResult`` (no pydantic: bisect's trial
    children run where envparity's dependencies may not be installed)."""
    from ..parity.encode import encode, sample, summary

    limit = max_bytes(cap)
    common: Dict[str, Any] = {
        "name": name,
        "rtol": rtol,
        "atol": atol,
        "columns": dict(columns or {}),
        "kind": kind,
        "setting": setting,
        "max_bytes": limit,
    }
    tracing = tracemalloc.is_tracing()
    if tracing:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
    else:
        before = 0
        tracemalloc.start()
    started = time.perf_counter()
    try:
        value = fn()
    except Skip as e:  # the probe's library is not installed here
        return dict(status="skipped", reason=str(e), **common)
    except Exception as e:  # noqa: BLE001 - a user's probe may raise anything
        reason = f"{type(e).__name__}: {e}"[:300]
        return dict(status="failed", reason=reason, **common)
    finally:
        wall = time.perf_counter() - started
        peak = max(0, tracemalloc.get_traced_memory()[1] - before)
        if not tracing:
            tracemalloc.stop()
    common.update(wall_s=round(wall, 6), peak_bytes=peak, loaded=_loaded())
    if settings is not None:
        common["settings"] = settings()
    try:
        enc = encode(value)
    except (TypeError, ValueError) as e:
        reason = f"{type(e).__name__}: {e}"[:300]
        return dict(status="failed", reason=reason, **common)
    dtype, shape = summary(enc.output)
    kept = len(enc.compressed) <= limit
    return dict(
        status="ok",
        dtype=dtype,
        shape=shape,
        sha256=enc.sha256,
        values=_finite(sample(enc.output, SAMPLE)),
        output=enc.text if kept else None,
        output_bytes=len(enc.compressed),
        partial=not kept,
        **common,
    )
