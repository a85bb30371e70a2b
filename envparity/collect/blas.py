"""BLAS and OpenMP libraries, as threadpoolctl reports them.

threadpoolctl only sees libraries that are loaded. A process that has not imported NumPy yet (a
server at start-up, the CLI) would otherwise report no BLAS while the training process that had
imported it reports one, and every comparison would cry "BLAS removed". So NumPy's BLAS is made
present first: the libraries a NumPy wheel vendors (``numpy.libs``, ``numpy/.dylibs``) are loaded
directly, which is the same file NumPy would load and costs a few milliseconds; when there are none
(a conda or distro NumPy linked against a system BLAS) NumPy itself is imported. Stdlib only, plus
threadpoolctl, which ``snapshot --python`` ships to the child.
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
from importlib.util import find_spec
from typing import Any, Dict, List

from .interface import Context

PROBE = "blas"
_LIB_HINTS = ("blas", "mkl", "blis", "lapack", "omp")


def _vendored_libraries(numpy_dir: str) -> List[str]:
    site = os.path.dirname(numpy_dir)
    candidates = glob.glob(os.path.join(site, "numpy.libs", "*")) + glob.glob(
        os.path.join(numpy_dir, ".dylibs", "*")
    )
    return sorted(
        p for p in candidates if any(h in os.path.basename(p).lower() for h in _LIB_HINTS)
    )


def _make_numpy_blas_present(ctx: Context) -> None:
    if "numpy" in sys.modules:
        return
    try:
        spec = find_spec("numpy")
    except (ImportError, ValueError):
        return
    if spec is None or not spec.origin:
        return
    libraries = _vendored_libraries(os.path.dirname(spec.origin))
    if libraries:
        # OpenBLAS before libgfortran/libquadmath is fine: $ORIGIN rpaths resolve its needs.
        for path in libraries:
            try:
                ctypes.CDLL(path)
            except OSError as e:
                ctx.fail(PROBE, f"cannot load: {e}", path)
        return
    try:
        import numpy  # noqa: F401  (loads the system BLAS it links against)
    except Exception as e:  # a broken NumPy is recorded, not fatal
        ctx.fail(PROBE, f"importing numpy failed: {type(e).__name__}: {e}")


def _import_threadpoolctl() -> Any:
    # threadpoolctl sets KMP_DUPLICATE_LIB_OK=True in os.environ when imported. An observer must
    # not change what it observes (nor what the server's children inherit): undo it.
    had = "KMP_DUPLICATE_LIB_OK" in os.environ
    import threadpoolctl

    if not had:
        os.environ.pop("KMP_DUPLICATE_LIB_OK", None)
    return threadpoolctl


def collect(ctx: Context) -> Dict[str, Any]:
    _make_numpy_blas_present(ctx)
    threadpool_info = _import_threadpoolctl().threadpool_info

    libraries = []
    for info in threadpool_info():
        libraries.append(
            {
                "user_api": str(info.get("user_api") or ""),
                "internal_api": str(info.get("internal_api") or ""),
                "prefix": str(info.get("prefix") or ""),
                "version": info.get("version"),
                "threading_layer": info.get("threading_layer"),
                "architecture": info.get("architecture"),
                "num_threads": info.get("num_threads"),
                "filepath": str(info.get("filepath") or ""),
            }
        )
    libraries.sort(key=lambda lib: (lib["user_api"], lib["internal_api"], lib["prefix"]))
    return {"blas": libraries}
