"""NumPy's SIMD baseline and dispatched features: recorded with the numeric probes only.

Importing NumPy costs tens of milliseconds and changes what a process has loaded, so this never
runs on the default capture path: ``snapshot --numerics`` (which imports NumPy anyway) calls it.
"""

from __future__ import annotations

from typing import Dict, List, Optional


def numpy_simd() -> Optional[Dict[str, List[str]]]:
    """``{"baseline", "dispatch", "available"}`` of this interpreter's NumPy, None without one."""
    try:
        import numpy
    except Exception:
        return None
    module = None
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            module = __import__(name, fromlist=["_"])
            break
        except Exception:
            continue
    if module is None:
        return None
    features = getattr(module, "__cpu_features__", {}) or {}
    return {
        "numpy": [str(numpy.__version__)],
        "baseline": sorted(str(f) for f in getattr(module, "__cpu_baseline__", []) or []),
        "dispatch": sorted(str(f) for f in getattr(module, "__cpu_dispatch__", []) or []),
        "available": sorted(str(f) for f, on in features.items() if on),
    }
