"""BLAS and OpenMP runtimes: every one an installed distribution vendors, loaded or not yet.

threadpoolctl only sees libraries that are loaded, so a process that has not imported NumPy,
scipy or scikit-learn yet (a server at start-up, the CLI, ``--python``) would report fewer
runtimes than a training process that has, and the two would get two fingerprints. So the
runtimes that installed wheels vendor (``numpy.libs``, ``scipy.libs``, ``scikit_learn.libs``,
``torch/lib``, ``<pkg>/.dylibs``) are loaded first: the same files the package itself would load,
a few milliseconds, no child process. A vendored library's own dependencies (NumPy 1.26's OpenBLAS
needs the ``libgfortran`` beside it and has no ``$ORIGIN`` RPATH) are loaded from the same
directory first, so the dynamic linker finds them already present by their soname.

Each runtime is keyed by its owning distribution and user API (``numpy/blas``, ``scipy/blas``,
``scikit-learn/openmp``), so a version change is one change of one key. A vendored runtime that
cannot be loaded or read is recorded with ``state: unknown`` and the reason: never left out.

Stdlib only, plus threadpoolctl, which ``snapshot --python`` lends to the child.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from importlib.util import find_spec
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .interface import Context

PROBE = "blas"

# threadpoolctl's controllers' filename prefixes, and the user API of each.
_PREFIX_API: Tuple[Tuple[str, str], ...] = (
    ("libscipy_openblas", "blas"),
    ("libopenblas", "blas"),
    ("libmkl_rt", "blas"),
    ("libblis", "blas"),
    ("libflexiblas", "blas"),
    ("libgomp", "openmp"),
    ("libiomp", "openmp"),
    ("libomp", "openmp"),
    ("vcomp", "openmp"),
)
# Directories, relative to a sys.path entry, where wheels put the native libraries they vendor
# (besides ``<dist>.libs``, which auditwheel makes).
_PACKAGE_LIB_DIRS = ("torch/lib", "numpy/.dylibs", "scipy/.dylibs", "sklearn/.dylibs")
# Import names whose distribution name differs from them.
_IMPORT_TO_DIST = {"sklearn": "scikit-learn"}
_NORMALIZE = re.compile(r"[-_.]+")
_NOT_FOUND = re.compile(r"^(?P<name>[^:/\s]+): cannot open shared object file")


def api_of(filename: str) -> Optional[str]:
    """``blas`` or ``openmp`` for a runtime's file name, None for anything else."""
    base = os.path.basename(filename)
    for prefix, api in _PREFIX_API:
        if base.startswith(prefix):
            return api
    return None


_REAL: Dict[str, Optional[str]] = {}  # sys.path entry -> its realpath (None: not a directory)


def _site_dirs(path: Iterable[str]) -> List[str]:
    seen: List[str] = []
    for entry in path:
        if entry not in _REAL:
            _REAL[entry] = os.path.realpath(entry) if entry and os.path.isdir(entry) else None
        real = _REAL[entry]
        if real is not None and real not in seen:
            seen.append(real)
    return seen


def owner_of(filepath: str, sites: List[str]) -> str:
    """The distribution that ships ``filepath``, from where it lies; ``system`` when outside."""
    real = os.path.realpath(filepath)
    # The deepest entry first: a checkout on sys.path may hold the venv whose site-packages is
    # another entry.
    for site in sorted(sites, key=len, reverse=True):
        if real.startswith(site + os.sep):
            top = real[len(site) + 1 :].split(os.sep, 1)[0]
            if top.endswith(".libs"):
                top = top[: -len(".libs")]
            top = _IMPORT_TO_DIST.get(top, top)
            return _NORMALIZE.sub("-", top).lower()
    return "system"


def vendored_runtimes(sites: List[str]) -> List[str]:
    """The BLAS/OpenMP library files that installed distributions vendor, sorted."""
    found: List[str] = []
    for site in sites:
        try:
            names = os.listdir(site)
        except OSError:
            continue
        dirs = [os.path.join(site, n) for n in names if n.endswith(".libs")]
        dirs += [os.path.join(site, d) for d in _PACKAGE_LIB_DIRS]
        for d in dirs:
            try:
                files = os.listdir(d)
            except OSError:
                continue
            found.extend(
                os.path.join(d, f)
                for f in files
                if api_of(f) and (".so" in f or f.endswith((".dylib", ".dll")))
            )
    return sorted(set(found))


def _load(path: str, depth: int = 0) -> None:
    """dlopen ``path``; when a dependency is missing and lies beside it, load that first."""
    try:
        ctypes.CDLL(path)
        return
    except OSError as e:
        match = _NOT_FOUND.match(str(e))
        sibling = os.path.join(os.path.dirname(path), match.group("name")) if match else None
        if depth >= 8 or sibling is None or not os.path.exists(sibling) or sibling == path:
            raise
    _load(sibling, depth + 1)
    _load(path, depth + 1)


def _make_numpy_blas_present(ctx: Context) -> None:
    # A conda or distro NumPy vendors nothing and links a system BLAS: import it to load that.
    if "numpy" in sys.modules:
        return
    try:
        spec = find_spec("numpy")
    except (ImportError, ValueError):
        return
    if spec is None or not spec.origin:
        return
    try:
        import numpy  # noqa: F401
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


def _assign_keys(entries: List[Dict[str, Any]]) -> None:
    entries.sort(key=lambda e: (e["owner"], e["user_api"], e["internal_api"], e["filepath"]))
    counts: Dict[str, int] = {}
    for e in entries:
        base = f"{e['owner']}/{e['user_api']}"
        counts[base] = counts.get(base, 0) + 1
    used: Dict[str, int] = {}
    for e in entries:
        base = f"{e['owner']}/{e['user_api']}"
        key = base if counts[base] == 1 else f"{base}:{e['internal_api'] or e['prefix']}"
        n = used.get(key, 0) + 1
        used[key] = n
        e["key"] = key if n == 1 else f"{key}#{n}"


def collect(ctx: Context, path: Optional[List[str]] = None) -> Dict[str, Any]:
    sites = _site_dirs(sys.path if path is None else path)
    vendored = vendored_runtimes(sites)
    failed: Dict[str, str] = {}
    for lib in vendored:
        try:
            _load(lib)
        except OSError as e:
            failed[os.path.realpath(lib)] = f"cannot load: {e}"
    numpy_vendors = any(owner_of(p, sites) == "numpy" for p in vendored)
    if not numpy_vendors:
        _make_numpy_blas_present(ctx)
    threadpool_info = _import_threadpoolctl().threadpool_info

    entries: List[Dict[str, Any]] = []
    seen = set()
    for info in threadpool_info():
        filepath = str(info.get("filepath") or "")
        real = os.path.realpath(filepath) if filepath else ""
        seen.add(real)
        entries.append(
            {
                "key": "",
                "owner": owner_of(filepath, sites) if filepath else "system",
                "state": "ok",
                "detail": None,
                "user_api": str(info.get("user_api") or ""),
                "internal_api": str(info.get("internal_api") or ""),
                "prefix": str(info.get("prefix") or ""),
                "version": info.get("version"),
                "threading_layer": info.get("threading_layer"),
                "architecture": info.get("architecture"),
                "num_threads": info.get("num_threads"),
                "filepath": filepath,
            }
        )
    for lib in vendored:
        real = os.path.realpath(lib)
        if real in seen:
            continue
        seen.add(real)
        detail = failed.get(real) or "loaded, but threadpoolctl does not report it"
        ctx.fail(PROBE, detail, lib)
        base = os.path.basename(lib)
        entries.append(
            {
                "key": "",
                "owner": owner_of(lib, sites),
                "state": "unknown",
                "detail": detail,
                "user_api": api_of(base) or "",
                "internal_api": "",
                "prefix": base.split("-", 1)[0].split(".", 1)[0],
                "version": None,
                "threading_layer": None,
                "architecture": None,
                "num_threads": None,
                "filepath": lib,
            }
        )
    _assign_keys(entries)
    entries.sort(key=lambda e: e["key"])
    return {"blas": entries}
