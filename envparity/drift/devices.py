"""CPU flags and cores, GPUs, the accelerator stack and BLAS/OpenMP runtimes, on plain dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

from .findings import Findings, same, show

if TYPE_CHECKING:
    from .._shapes_snapshot import AcceleratorInfo, BlasLibrary, CpuInfo, Gpu, GpuInfo

# CPU flags that pick vector code paths in BLAS, NumPy and frameworks.
NUMERIC_FLAG_PREFIXES = ("avx", "fma", "amx", "sse4", "f16c", "neon", "asimd", "sve")


def cpu_flags(out: Findings, a: CpuInfo, b: CpuInfo) -> None:
    fa, fb = set(a.get("flags") or ()), set(b.get("flags") or ())
    for flag in sorted(fa - fb):
        numeric = flag.startswith(NUMERIC_FLAG_PREFIXES)
        out.add(
            "cpu",
            f"flags.{flag}",
            flag,
            None,
            "warning" if numeric else "info",
            "another vector code path: results may differ in the last bits, speed differs; "
            "run on the baseline's CPU type or compare numerics"
            if numeric
            else "a CPU feature the baseline had is missing; usually harmless",
        )
    for flag in sorted(fb - fa):
        out.add(
            "cpu",
            f"flags.{flag}",
            None,
            flag,
            "info",
            "a CPU feature the baseline lacked: libraries may pick a faster path; compare "
            "numerics if results must match bit for bit",
        )


def _device_summary(devices: Iterable[Gpu], field: str) -> Optional[str]:
    counts: Dict[str, int] = {}
    for device in devices:
        label = show(device.get(field))
        counts[label] = counts.get(label, 0) + 1
    if not counts:
        return None
    return ", ".join(f"{n} x {label}" for label, n in sorted(counts.items()))


def gpus(out: Findings, a: GpuInfo, b: GpuInfo) -> None:
    sa, sb = a.get("state", "no_library"), b.get("state", "no_library")
    da, db = a.get("devices") or [], b.get("devices") or []
    if sa != sb:
        if sa == "ok":
            out.add(
                "gpu",
                "state",
                sa,
                sb,
                "error",
                f"the baseline had GPUs, the candidate has none usable ({b.get('detail') or sb}): "
                "the model will run on CPU; fix the GPU runtime or ignore gpu:* for CPU serving",
            )
        elif sb == "ok":
            out.add(
                "gpu",
                "state",
                sa,
                sb,
                "warning",
                "the candidate has GPUs the baseline did not: GPU kernels give other results "
                "than CPU ones; compare numerics",
            )
        else:
            out.add(
                "gpu",
                "state",
                sa,
                sb,
                "info",
                "no usable GPU on either side, for different reasons; harmless",
            )
    if len(da) != len(db):
        out.add(
            "gpu",
            "count",
            len(da),
            len(db),
            "warning",
            "another number of GPUs: data-parallel batch splits and speed change; expose "
            f"{len(da)} GPU(s) with CUDA_VISIBLE_DEVICES",
        )
    va: object  # a summary of the devices below, a driver version after
    vb: object
    # GPUs are compared as multisets: order (index) and identity (UUID) are instance-only.
    for field, severity, why in (
        (
            "name",
            "warning",
            "another GPU model: other kernels and TF32/FP16 behaviour; results and speed differ",
        ),
        (
            "compute_capability",
            "warning",
            "another compute capability: other kernels (e.g. TF32 on 8.0+); compare numerics",
        ),
        ("memory_bytes", "info", "another GPU memory size: check that batches still fit"),
    ):
        va, vb = _device_summary(da, field), _device_summary(db, field)
        if va != vb and da and db:
            out.add("gpu", "model" if field == "name" else field, va, vb, severity, why)
    for field, what in (("driver_version", "driver"), ("cuda_driver_version", "CUDA driver API")):
        va, vb = a.get(field), b.get(field)
        if not same(va, vb) and (sa == "ok" or sb == "ok"):
            out.add(
                "gpu",
                field,
                va,
                vb,
                "warning",
                f"another NVIDIA {what} version: kernels and cuBLAS heuristics may differ; use "
                f"driver {show(va)} in the candidate's nodes",
            )


def accelerator(out: Findings, a: AcceleratorInfo, b: AcceleratorInfo) -> None:
    for field, severity, what in (
        ("cuda_runtime", "warning", "CUDA runtime"),
        ("cudnn", "warning", "cuDNN"),
        ("nccl", "info", "NCCL"),
    ):
        va, vb = a.get(field), b.get(field)
        if same(va, vb):
            continue
        if va is None or vb is None:
            # Recorded only where a framework was imported: absence is usually "not asked".
            out.add(
                "accelerator",
                field,
                va,
                vb,
                "info",
                f"{what} recorded on one side only: snapshot both with --frameworks to compare",
            )
        else:
            out.add(
                "accelerator",
                field,
                va,
                vb,
                severity,
                f"another {what} version: kernels and numerics may differ; install the "
                f"framework build for {what} {va}",
            )


# --- BLAS / OpenMP runtimes --------------------------------------------------------------------


def _computed_key(lib: BlasLibrary) -> str:
    """A schema-1 entry's key, derived from where the library lives as schema 2 keys it:
    ``numpy.libs/libopenblas...so`` is ``numpy/blas``, ``torch/lib/libgomp.so`` ``torch/openmp``."""
    parts = str(lib.get("filepath") or "").replace("\\", "/").split("/")
    owner = "system"
    if len(parts) >= 2 and parts[-2].endswith(".libs"):
        owner = parts[-2][: -len(".libs")]
    elif len(parts) >= 3 and parts[-3:-1] == ["torch", "lib"]:
        owner = "torch"
    elif len(parts) >= 3 and parts[-2] == ".dylibs":
        owner = parts[-3]
    owner = {"sklearn": "scikit-learn"}.get(owner, owner)
    owner = owner.replace("_", "-").replace(".", "-").lower()
    return f"{owner}/{lib.get('user_api')}"


def blas_index(libs: List[BlasLibrary]) -> Dict[str, BlasLibrary]:
    """Runtimes by key: the snapshot's stable ``key`` (``numpy/blas``) when it has one, else
    ``user_api.prefix`` (``blas.libopenblas``), numbered when one library is loaded twice."""
    found: Dict[str, BlasLibrary] = {}
    ordered = sorted(
        libs,
        key=lambda x: (
            x.get("key") or _computed_key(x),
            x.get("internal_api") or "",
            x.get("version") or "",
        ),
    )
    for lib in ordered:
        base = lib.get("key") or _computed_key(lib)
        key, n = base, 2
        while key in found:  # the same library loaded twice (two wheels vendoring it)
            key, n = f"{base}#{n}", n + 1
        found[key] = lib
    return found


def unknown(lib: Optional[BlasLibrary]) -> bool:
    """A runtime recorded as present but unreadable."""
    return lib is not None and lib.get("state") == "unknown"


def _label(lib: BlasLibrary) -> str:
    return f"{lib.get('internal_api')} {lib.get('version') or ''}".strip()


#: Fields compared when vendor and version agree (a change of either is one finding).
BLAS_FIELDS: Tuple[Tuple[str, str], ...] = (
    (
        "architecture",
        "another BLAS kernel architecture (CPU-dependent code path): results may differ "
        "in the last bits; run on the baseline's CPU type or set OPENBLAS_CORETYPE",
    ),
    ("threading_layer", "another threading layer: speed and reduction order differ"),
)


def blas(
    out: Findings,
    base: List[BlasLibrary],
    cand: List[BlasLibrary],
    threads: List[Tuple[str, Any, Any]],
) -> None:
    """Compare runtimes; thread-count changes are appended to ``threads`` (key, a, b) for the
    thread root-cause finding instead of being reported one by one."""
    a, b = blas_index(base), blas_index(cand)
    for key in sorted(a.keys() | b.keys()):
        la, lb = a.get(key), b.get(key)
        if unknown(la) or unknown(lb):
            side = (
                "both sides" if unknown(la) and unknown(lb)
                else "the baseline" if unknown(la) else "the candidate"
            )
            out.incomplete_finding(
                f"blas:{key}",
                "unknown" if unknown(la) else None if la is None else "ok",
                "unknown" if unknown(lb) else None if lb is None else "ok",
                "info" if unknown(la) and unknown(lb) else "warning",
                f"incomplete comparison: the {key} runtime could not be read on {side}, so "
                "its vendor, version and threads are not compared; snapshot again where the "
                "library can be loaded",
            )
            continue
        if la is None or lb is None:
            lib = la or lb
            assert lib is not None
            out.add(
                "blas",
                key,
                _label(lib) if la else None,
                _label(lib) if lb else None,
                "warning",
                "another BLAS/OpenMP library is loaded: it rounds and threads differently, "
                "results may differ in the last bits; install the baseline's NumPy/SciPy build",
            )
            continue
        build_a = (la.get("internal_api"), la.get("version"))
        if build_a != (lb.get("internal_api"), lb.get("version")):
            # One finding for the runtime: its other fields (architecture, ...) follow the build.
            also = [f for f, _ in BLAS_FIELDS if not same(la.get(f), lb.get(f))]
            vendor = la.get("internal_api") != lb.get("internal_api")
            out.add(
                "blas",
                key,
                _label(la),
                _label(lb),
                "warning",
                ("another BLAS/OpenMP vendor" if vendor else "another BLAS/OpenMP version")
                + ": kernels and rounding may differ in the last bits"
                + (f" (also {', '.join(also)})" if also else "")
                + f"; install the {key.split('/')[0]} build the baseline had",
            )
        else:
            for field, why in BLAS_FIELDS:
                va, vb = la.get(field), lb.get(field)
                if not same(va, vb):
                    out.add("blas", f"{key}.{field}", va, vb, "warning", why)
        if la.get("num_threads") != lb.get("num_threads"):
            threads.append((f"blas:{key}.num_threads", la.get("num_threads"),
                            lb.get("num_threads")))
