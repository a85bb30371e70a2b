"""Drift: every difference between two snapshots that can change a model, with what to do about it.

``diff(baseline, candidate, policy)`` is pure: no I/O, no clock. It compares only identity fields
(instance-only values such as hostname, pid, paths, UUIDs and times never make findings), so two
snapshots of the same environment give no findings. Severities follow what a difference does to a
model's results (DESIGN.md, "Drift"); the policy then ignores or re-grades findings and sets the
fail-on threshold. Numeric probes and benchmarks are compared by ``envparity.bench.compare``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .model import (
    SEVERITIES,
    BenchmarkComparison,
    BlasLibrary,
    Category,
    DriftReport,
    Finding,
    Package,
    Scalar,
    Snapshot,
    SnapshotSummary,
    fingerprint,
)
from .policy import Policy
from .redact import REDACTED

_RANK = {name: i for i, name in enumerate(SEVERITIES)}
_CATEGORY_ORDER = {name: i for i, name in enumerate(Category.__args__)}  # type: ignore[attr-defined]

# Determinism variables whose change alters results or their reproducibility (error); any other
# variable of the determinism set steers threads or performance (warning).
_DETERMINISM_ERRORS = {
    "PYTHONHASHSEED": "hash order of str/bytes keys (set and dict-building order)",
    "CUBLAS_WORKSPACE_CONFIG": "whether cuBLAS can run deterministically",
    "CUDA_LAUNCH_BLOCKING": "CUDA kernel launch synchronisation",
    "TF_DETERMINISTIC_OPS": "TensorFlow op determinism",
    "TF_CUDNN_DETERMINISTIC": "cuDNN algorithm choice in TensorFlow",
    "TF_ENABLE_ONEDNN_OPTS": "oneDNN kernels in TensorFlow (results differ in the last bits)",
    "NVIDIA_TF32_OVERRIDE": "TF32 math on Ampere+ GPUs (10-bit mantissa matmuls)",
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "TF32 math in torch matmuls",
    "TORCH_DETERMINISTIC": "torch deterministic algorithms",
    "MKL_CBWR": "MKL's conditional bitwise reproducibility",
    "MKL_ENABLE_INSTRUCTIONS": "the instruction set MKL uses",
    "MKL_DEBUG_CPU_TYPE": "the code path MKL uses",
    "OPENBLAS_CORETYPE": "the kernels OpenBLAS uses",
    "NPY_DISABLE_CPU_FEATURES": "NumPy's SIMD code paths",
    "XLA_FLAGS": "XLA compilation (fusion, autotuning, determinism)",
    "JAX_ENABLE_X64": "JAX's default float width",
    "JAX_DEFAULT_MATMUL_PRECISION": "JAX matmul precision",
}

# Framework switches that only set thread counts (warning); every other switch is an error.
_FRAMEWORK_THREADS = {"num_threads", "num_interop_threads", "inter_op_threads", "intra_op_threads"}

# CPU flags that pick vector code paths in BLAS, NumPy and frameworks.
_NUMERIC_FLAG_PREFIXES = ("avx", "fma", "amx", "sse4", "f16c", "neon", "asimd", "sve")

_UTC = {
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Universal",
    "Etc/Universal",
    "Zulu",
    "Etc/Zulu",
    "GMT",
    "Etc/GMT",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "Etc/GMT0",
    "GMT0",
    "Greenwich",
}

# Time zone, locale and text encoding variables change parsing, sorting and dates.
_ENV_WARNING = {"TZ", "LANG", "LANGUAGE", "PYTHONIOENCODING", "PYTHONUTF8"}
_ENV_WARNING_PREFIXES = ("LC_",)


def _show(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def _secret(value: Any) -> bool:
    return isinstance(value, str) and REDACTED in value


class _Findings:
    """Collects findings; a value that is (or holds) a redaction never shows the other side."""

    def __init__(self) -> None:
        self.items: List[Finding] = []

    def add(
        self,
        category: str,
        key: str,
        baseline: Scalar,
        candidate: Scalar,
        severity: str,
        why: str,
    ) -> None:
        if _secret(baseline) or _secret(candidate):
            # When one side was redacted, the other side's value is as sensitive (a secret that
            # merely failed to match a pattern): both are shown redacted, never the value.
            baseline = None if baseline is None else REDACTED
            candidate = None if candidate is None else REDACTED
            why = (
                "a secret-looking value differs (values not shown): check that the candidate "
                "uses the intended one"
            )
        change = "added" if baseline is None else "removed" if candidate is None else "changed"
        self.items.append(
            Finding(
                category=category,  # type: ignore[arg-type]
                key=key,
                baseline=baseline,
                candidate=candidate,
                change=change,  # type: ignore[arg-type]
                severity=severity,  # type: ignore[arg-type]
                why=why,
            )
        )


# --- packages -------------------------------------------------------------------------------


def _public(v: Any) -> Tuple[Any, ...]:
    # Version.public builds a string; this tuple compares the same (trailing zeros do not count,
    # as in Version equality) at a fraction of the cost, which matters with thousands of packages.
    release = v.release
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return (v.epoch, release, v.pre, v.post, v.dev)


def _version_change(name: str, old: str, new: str) -> Tuple[str, str]:
    """Severity and why for a package whose version went from ``old`` to ``new``."""
    from packaging.version import InvalidVersion, Version

    pin = f"pin {name}=={old}"
    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return (
            "warning",
            f"not a PEP 440 version, compared as text, so the size of the change is unknown: {pin}",
        )
    if a == b:
        return ("info", f"the same version written differently ({old} vs {new}); harmless")
    direction = "downgraded" if b < a else "upgraded"
    if _public(a) == _public(b):
        return (
            "warning",
            f"same version, another build ({old} -> {new}: other compiled code, e.g. CPU vs CUDA): "
            f"install the baseline's build, {pin}",
        )
    ra, rb = a.release + (0, 0), b.release + (0, 0)
    if a.epoch != b.epoch or ra[0] != rb[0]:
        severity, size = "error", "major version"
    elif ra[1] != rb[1]:
        severity, size = "warning", "minor version"
    else:
        severity, size = "info", "patch/pre/post release"
    why = f"{size} {direction}: {pin}"
    if a.local != b.local:
        # A local label names a build (+cpu, +cu121): a different one is at least a warning.
        if severity == "info":
            severity = "warning"
        why = f"{size} {direction} and another build (+{a.local or ''} -> +{b.local or ''}): {pin}"
    return severity, why


def _origin(pkg: Package) -> Dict[str, Any]:
    return {"editable": pkg.editable, "vcs": pkg.vcs, "url": pkg.url, "commit": pkg.commit}


def _packages(out: _Findings, base: List[Package], cand: List[Package], shadowed: bool) -> None:
    a = {p.name: p for p in base}
    b = {p.name: p for p in cand}
    suffix = " (shadowed)" if shadowed else ""
    for name in sorted(a.keys() | b.keys()):
        pa, pb = a.get(name), b.get(name)
        key = name + suffix
        if shadowed:
            if pa is None or pb is None or pa.version != pb.version:
                out.add(
                    "package",
                    key,
                    None if pa is None else pa.version,
                    None if pb is None else pb.version,
                    "info",
                    "a copy hidden by an earlier sys.path entry (not in effect): remove stale "
                    "copies so the one that loads is unambiguous",
                )
            continue
        if pb is None:
            assert pa is not None
            out.add(
                "package",
                key,
                pa.version,
                None,
                "error",
                f"missing from the candidate: install {name}=={pa.version}",
            )
        elif pa is None:
            out.add(
                "package",
                key,
                None,
                pb.version,
                "info",
                "only in the candidate: remove it if unused, or add it to the baseline",
            )
        elif pa.version != pb.version:
            severity, why = _version_change(name, pa.version, pb.version)
            out.add("package", key, pa.version, pb.version, severity, why)
        else:
            oa, ob = _origin(pa), _origin(pb)
            if oa != ob:
                for field in ("editable", "vcs", "url", "commit"):
                    if oa[field] != ob[field]:
                        out.add(
                            "package",
                            f"{name}.{field}",
                            oa[field],
                            ob[field],
                            "warning",
                            f"same version number from another source ({field}): other code "
                            f"may be running; install {name} the way the baseline did",
                        )
            elif pa.installer != pb.installer:
                out.add(
                    "package",
                    f"{name}.installer",
                    pa.installer,
                    pb.installer,
                    "info",
                    "installed by another tool; harmless unless the builds differ",
                )


# --- python, platform, cpu, memory -------------------------------------------------------------


def _python(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.python, cand.python
    if a.implementation != b.implementation:
        out.add(
            "python",
            "implementation",
            a.implementation,
            b.implementation,
            "error",
            f"another Python implementation: run the candidate on {a.implementation}",
        )
    if a.version != b.version:
        va, vb = a.version.split("."), b.version.split(".")
        if va[:2] != vb[:2]:
            out.add(
                "python",
                "version",
                a.version,
                b.version,
                "error",
                f"another Python minor version (other wheels, other stdlib behaviour): "
                f"use Python {'.'.join(va[:2])} in the candidate",
            )
        else:
            out.add(
                "python",
                "version",
                a.version,
                b.version,
                "info",
                f"patch release of the same Python (bug fixes only): use {a.version} "
                "for a bit-identical runtime",
            )
    for field, severity, why in (
        ("abi_flags", "warning", "another ABI build of Python: use the baseline's build"),
        (
            "gil_disabled",
            "warning",
            "free-threaded vs GIL build: extensions and thread behaviour differ; use the "
            "baseline's build",
        ),
        ("build", "info", "another build of the same version; usually harmless"),
        ("compiler", "info", "built by another compiler; usually harmless"),
        ("virtualenv", "info", "virtualenv vs system interpreter; usually harmless"),
        ("conda_env", "info", "another conda environment name; usually harmless"),
    ):
        va, vb = getattr(a, field), getattr(b, field)
        if va != vb:
            out.add("python", field, va, vb, severity, why)


def _platform(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.platform, cand.platform
    fields: List[Tuple[str, str, str]] = [
        ("system", "error", "another operating system: run the candidate on the baseline's OS"),
        (
            "arch",
            "error",
            "another CPU architecture: other wheels and numeric code paths; use the baseline's",
        ),
        (
            "libc",
            "warning",
            "another C library: libm results (exp, log, pow) may differ in the last bits; use "
            "the baseline's base image",
        ),
        (
            "libc_version",
            "warning",
            "another C library version: libm results may differ in the last bits; use the "
            "baseline's base image",
        ),
        (
            "timezone",
            "warning",
            "another time zone: naive datetimes, day boundaries and date features shift; set "
            f"TZ={a.timezone or 'UTC'} in the candidate",
        ),
        (
            "locale",
            "warning",
            f"another locale: string sorting, number and date parsing differ; set "
            f"LC_ALL/LANG={a.locale or 'C.UTF-8'}",
        ),
        (
            "preferred_encoding",
            "warning",
            "another default text encoding: files read without encoding= decode differently; "
            "set PYTHONUTF8=1 or the baseline's locale",
        ),
        (
            "filesystem_encoding",
            "warning",
            "another file-system encoding: non-ASCII paths behave differently; match the "
            "baseline's locale",
        ),
        ("os_id", "info", "another OS distribution; usually harmless for Python code"),
        ("os_name", "info", "another OS distribution; usually harmless for Python code"),
        ("os_version", "info", "another OS release; usually harmless for Python code"),
        ("kernel", "info", "another kernel; usually harmless"),
    ]
    for field, severity, why in fields:
        va, vb = getattr(a, field), getattr(b, field)
        if va == vb:
            continue
        if field == "timezone" and va in _UTC and vb in _UTC:
            continue  # spellings of one zone
        out.add("platform", field, va, vb, severity, why)
    # The same zone at another time of year has another offset (DST), and a named zone's change
    # is reported above: an offset alone is drift only when neither side could name its zone.
    if a.utc_offset_minutes != b.utc_offset_minutes and a.timezone is None and b.timezone is None:
        out.add(
            "platform",
            "utc_offset_minutes",
            a.utc_offset_minutes,
            b.utc_offset_minutes,
            "warning",
            "another UTC offset: local times and day boundaries shift; set TZ to the "
            "baseline's zone",
        )


def _cpu(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.cpu, cand.cpu
    if a.vendor != b.vendor:
        out.add(
            "cpu",
            "vendor",
            a.vendor,
            b.vendor,
            "warning",
            "another CPU vendor: BLAS and vector libraries pick other kernels, results may "
            "differ in the last bits; compare numerics (envparity snapshot --numerics)",
        )
    if a.model != b.model:
        out.add(
            "cpu",
            "model",
            a.model,
            b.model,
            "info",
            "another CPU model: speed differs; the ISA flags below say whether code paths do",
        )
    if a.usable_cores != b.usable_cores:
        out.add(
            "cpu",
            "usable_cores",
            a.usable_cores,
            b.usable_cores,
            "warning",
            "another number of usable cores: default thread counts follow it (speed, and the "
            "summation order of threaded reductions); set OMP_NUM_THREADS explicitly",
        )
    for field in ("logical_cores", "physical_cores", "affinity_cores", "cgroup_quota_cores"):
        va, vb = getattr(a, field), getattr(b, field)
        if va != vb:
            out.add(
                "cpu",
                field,
                va,
                vb,
                "info",
                "another core count: speed differs; pin thread counts if results must match",
            )
    if a.max_mhz != b.max_mhz:
        out.add("cpu", "max_mhz", a.max_mhz, b.max_mhz, "info", "another clock: speed differs")
    fa, fb = set(a.flags), set(b.flags)
    for flag in sorted(fa - fb):
        numeric = flag.startswith(_NUMERIC_FLAG_PREFIXES)
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


def _memory(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    for field in ("total_bytes", "cgroup_limit_bytes"):
        va, vb = getattr(base.memory, field), getattr(cand.memory, field)
        if va != vb:
            out.add(
                "memory",
                field,
                va,
                vb,
                "info",
                "another memory size: check that batch sizes and caches still fit",
            )


# --- gpu, accelerator, blas ---------------------------------------------------------------------


def _device_summary(devices: Iterable[Any], field: str) -> Optional[str]:
    counts: Dict[str, int] = {}
    for device in devices:
        value = getattr(device, field)
        label = _show(value)
        counts[label] = counts.get(label, 0) + 1
    if not counts:
        return None
    return ", ".join(f"{n} x {label}" for label, n in sorted(counts.items()))


def _gpu(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.gpus, cand.gpus
    if a.state != b.state:
        if a.state == "ok":
            out.add(
                "gpu",
                "state",
                a.state,
                b.state,
                "error",
                f"the baseline had GPUs, the candidate has none usable ({b.detail or b.state}): "
                "the model will run on CPU; fix the GPU runtime or ignore gpu:* for CPU serving",
            )
        elif b.state == "ok":
            out.add(
                "gpu",
                "state",
                a.state,
                b.state,
                "warning",
                "the candidate has GPUs the baseline did not: GPU kernels give other results "
                "than CPU ones; compare numerics",
            )
        else:
            out.add(
                "gpu",
                "state",
                a.state,
                b.state,
                "info",
                "no usable GPU on either side, for different reasons; harmless",
            )
    if len(a.devices) != len(b.devices):
        out.add(
            "gpu",
            "count",
            len(a.devices),
            len(b.devices),
            "warning",
            "another number of GPUs: data-parallel batch splits and speed change; expose "
            f"{len(a.devices)} GPU(s) with CUDA_VISIBLE_DEVICES",
        )
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
        va, vb = _device_summary(a.devices, field), _device_summary(b.devices, field)
        if va != vb and a.devices and b.devices:
            out.add("gpu", "model" if field == "name" else field, va, vb, severity, why)
    for field, what in (("driver_version", "driver"), ("cuda_driver_version", "CUDA driver API")):
        va, vb = getattr(a, field), getattr(b, field)
        if va != vb and (a.state == "ok" or b.state == "ok"):
            out.add(
                "gpu",
                field,
                va,
                vb,
                "warning",
                f"another NVIDIA {what} version: kernels and cuBLAS heuristics may differ; use "
                f"driver {_show(va)} in the candidate's nodes",
            )


def _accelerator(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.accelerator, cand.accelerator
    for field, severity, what in (
        ("cuda_runtime", "warning", "CUDA runtime"),
        ("cudnn", "warning", "cuDNN"),
        ("nccl", "info", "NCCL"),
    ):
        va, vb = getattr(a, field), getattr(b, field)
        if va == vb:
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


def _blas_key(lib: BlasLibrary) -> str:
    return f"{lib.user_api}.{lib.prefix}"


def _blas(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    def index(libs: List[BlasLibrary]) -> Dict[str, BlasLibrary]:
        found: Dict[str, BlasLibrary] = {}
        for lib in sorted(libs, key=lambda x: (_blas_key(x), x.internal_api, x.version or "")):
            key, n = _blas_key(lib), 2
            while key in found:  # the same library loaded twice (two wheels vendoring it)
                key, n = f"{_blas_key(lib)}#{n}", n + 1
            found[key] = lib
        return found

    a, b = index(base.blas), index(cand.blas)
    for key in sorted(a.keys() | b.keys()):
        la, lb = a.get(key), b.get(key)
        if la is None or lb is None:
            lib = la or lb
            assert lib is not None
            label = f"{lib.internal_api} {lib.version or ''}".strip()
            out.add(
                "blas",
                key,
                label if la else None,
                label if lb else None,
                "warning",
                "another BLAS/OpenMP library is loaded: it rounds and threads differently, "
                "results may differ in the last bits; install the baseline's NumPy/SciPy build",
            )
            continue
        if la.internal_api != lb.internal_api:
            out.add(
                "blas",
                f"{key}.internal_api",
                la.internal_api,
                lb.internal_api,
                "warning",
                "another BLAS vendor: it rounds differently, results may differ in the last "
                "bits; install the baseline's NumPy/SciPy build",
            )
        for field, why in (
            ("version", "another BLAS version: kernels may differ; install the baseline's build"),
            (
                "architecture",
                "another BLAS kernel architecture (CPU-dependent code path): results may differ "
                "in the last bits; run on the baseline's CPU type or set OPENBLAS_CORETYPE",
            ),
            ("threading_layer", "another threading layer: speed and reduction order differ"),
            (
                "num_threads",
                "another BLAS thread count: speed and reduction order differ; set "
                "OMP_NUM_THREADS/OPENBLAS_NUM_THREADS/MKL_NUM_THREADS explicitly",
            ),
        ):
            va, vb = getattr(la, field), getattr(lb, field)
            if va != vb:
                out.add("blas", f"{key}.{field}", va, vb, "warning", why)


# --- determinism, seeds, env, code ----------------------------------------------------------------


def _set_or_unset(name: str, value: Any) -> str:
    if value is None:
        return f"unset {name} in the candidate (the baseline does not set it)"
    return f"set {name}={value} in the candidate, as in the baseline"


def _determinism(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.determinism.env, cand.determinism.env
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        if va == vb:
            continue
        if name in _DETERMINISM_ERRORS:
            out.add(
                "determinism",
                name,
                va,
                vb,
                "error",
                f"steers {_DETERMINISM_ERRORS[name]}: {_set_or_unset(name, va)}",
            )
        elif "THREADS" in name:
            out.add(
                "determinism",
                name,
                va,
                vb,
                "warning",
                f"another thread count: speed and the summation order of threaded reductions "
                f"differ; {_set_or_unset(name, va)}",
            )
        else:
            out.add(
                "determinism",
                name,
                va,
                vb,
                "warning",
                f"steers threading or a library's code path: {_set_or_unset(name, va)}",
            )
    fa, fb = base.determinism.frameworks, cand.determinism.frameworks
    for framework in sorted(fa.keys() | fb.keys()):
        sa, sb = fa.get(framework), fb.get(framework)
        if sa is None or sb is None:
            out.add(
                "determinism",
                framework,
                "recorded" if sa else None,
                "recorded" if sb else None,
                "info",
                f"{framework} switches recorded on one side only (not imported): snapshot both "
                "with --frameworks to compare them",
            )
            continue
        for switch in sorted(sa.keys() | sb.keys()):
            if switch == "version":  # the package list already compares versions
                continue
            sva, svb = sa.get(switch), sb.get(switch)
            if sva == svb:
                continue
            key = f"{framework}.{switch}"
            if switch in _FRAMEWORK_THREADS:
                out.add(
                    "determinism",
                    key,
                    sva,
                    svb,
                    "warning",
                    f"another thread count: speed and reduction order differ; set {key} to "
                    f"{_show(sva)} at start-up",
                )
            else:
                out.add(
                    "determinism",
                    key,
                    sva,
                    svb,
                    "error",
                    f"a determinism/precision switch differs: set {key} = {_show(sva)} at "
                    "start-up, as the baseline did",
                )


def _seeds(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.seeds.declared, cand.seeds.declared
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        if name not in b:
            out.add(
                "seed",
                name,
                va,
                None,
                "warning",
                f"declared in the baseline only: call envparity.record_seed({name!r}, {va!r}) "
                "where the candidate seeds it (or seed_everything)",
            )
        elif name not in a:
            out.add(
                "seed",
                name,
                None,
                vb,
                "info",
                "declared in the candidate only: record it in the baseline too",
            )
        elif va != vb:
            out.add(
                "seed",
                name,
                va,
                vb,
                "error",
                f"another seed: results are not reproducible across the two; seed {name} "
                f"with {va!r} as the baseline did",
            )


def _env(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.env, cand.env
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        if va == vb:
            continue
        if name in ("CUDA_VISIBLE_DEVICES", "LD_PRELOAD", "LD_LIBRARY_PATH"):
            out.add(
                "env",
                name,
                va,
                vb,
                "warning",
                f"changes which GPUs or native libraries load: {_set_or_unset(name, va)}",
            )
        elif name in _ENV_WARNING or name.startswith(_ENV_WARNING_PREFIXES):
            out.add(
                "env",
                name,
                va,
                vb,
                "warning",
                f"changes the time zone, locale or text encoding (parsing, sorting, dates): "
                f"{_set_or_unset(name, va)}",
            )
        else:
            out.add("env", name, va, vb, "info", f"{_set_or_unset(name, va)} if it matters")


def _code(out: _Findings, base: Snapshot, cand: Snapshot) -> None:
    a, b = base.code, cand.code
    if a is None and b is None:
        return
    if a is None or b is None:
        out.add(
            "code",
            "checkout",
            "git" if a else None,
            "git" if b else None,
            "info",
            "a git checkout on one side only; snapshot from the same checkout to compare code",
        )
        return
    if a.commit != b.commit:
        out.add(
            "code",
            "commit",
            a.commit,
            b.commit,
            "info",
            f"other code: check out {_show(a.commit)[:12]} to reproduce the baseline",
        )
    if a.branch != b.branch:
        out.add("code", "branch", a.branch, b.branch, "info", "another branch; see the commit")
    # Unknown (None) is not a difference: the start-up hook runs no git, so it cannot tell.
    if a.dirty is not None and b.dirty is not None and a.dirty != b.dirty:
        dirty = bool(b.dirty)
        out.add(
            "code",
            "dirty",
            a.dirty,
            b.dirty,
            "warning" if dirty else "info",
            "uncommitted changes in the candidate: commit them so the code can be reproduced"
            if dirty
            else "the baseline had uncommitted changes: its code cannot be reproduced exactly",
        )
    for name in sorted(a.remotes.keys() | b.remotes.keys()):
        va, vb = a.remotes.get(name), b.remotes.get(name)
        if va != vb:
            out.add(
                "code", f"remote.{name}", va, vb, "info", "another git remote; usually harmless"
            )


# --- numerics and benchmarks -------------------------------------------------------------------


def _measured(out: _Findings, base: Snapshot, cand: Snapshot) -> List[BenchmarkComparison]:
    comparisons: List[BenchmarkComparison] = []
    if not (base.numerics or cand.numerics or base.benchmarks or cand.benchmarks):
        return comparisons
    try:
        from .bench.compare import compare_benchmarks, numeric_findings
    except ModuleNotFoundError as e:  # pragma: no cover - a build without envparity.bench
        if e.name not in ("envparity.bench", "envparity.bench.compare"):
            raise
        return comparisons
    if base.numerics and cand.numerics:
        out.items.extend(numeric_findings(base.numerics, cand.numerics))
    if base.benchmarks and cand.benchmarks:
        comparisons = compare_benchmarks(base.benchmarks, cand.benchmarks)
        for c in comparisons:
            if c.verdict == "slower":
                detail = c.why or f"{c.ratio}x the baseline's time"
                out.add(
                    "benchmark",
                    c.name,
                    c.baseline_median_s,
                    c.candidate_median_s,
                    "warning",
                    f"slower, {detail}: look at the BLAS, CPU and thread findings, or profile "
                    "the candidate",
                )
            if c.memory_verdict == "more":
                out.add(
                    "benchmark",
                    f"{c.name}.memory",
                    c.baseline_peak_bytes,
                    c.candidate_peak_bytes,
                    "warning",
                    f"allocates more, {c.memory_why}: look at the package versions it uses",
                )
    return comparisons


# --- the report ------------------------------------------------------------------------------

_CHECKS: Tuple[Callable[[_Findings, Snapshot, Snapshot], None], ...] = (
    _python,
    _platform,
    _cpu,
    _memory,
    _gpu,
    _accelerator,
    _blas,
    _determinism,
    _seeds,
    _env,
    _code,
)


def _summary(snap: Snapshot, ref: str) -> SnapshotSummary:
    return SnapshotSummary(
        ref=ref or snap.snapshot_id,
        snapshot_id=snap.snapshot_id,
        fingerprint=snap.fingerprint or fingerprint(snap),
        role=snap.role,
        labels=snap.labels,
        captured_at=snap.captured_at,
        hostname=snap.platform.hostname,
    )


def sort_key(finding: Finding) -> Tuple[int, int, str]:
    """Errors first, then by category (in DESIGN order), then by key."""
    return (-_RANK[finding.severity], _CATEGORY_ORDER[finding.category], finding.key)


def reaches(verdict: str, fail_on: str) -> bool:
    """True when a report whose highest severity is ``verdict`` fails at ``fail_on``."""
    if fail_on == "never" or verdict == "none":
        return False
    return _RANK[verdict] >= _RANK[fail_on]


def diff(
    baseline: Snapshot,
    candidate: Snapshot,
    policy: Optional[Policy] = None,
    *,
    baseline_ref: str = "",
    candidate_ref: str = "",
) -> DriftReport:
    """Every difference between ``baseline`` and ``candidate`` that can change a model's results.

    Only identity fields are compared: two snapshots of the same environment give no findings.
    The policy (default: fail on error) ignores or re-grades findings and sets ``fail_on``.
    """
    policy = policy or Policy()
    out = _Findings()
    _packages(out, baseline.packages, candidate.packages, shadowed=False)
    _packages(out, baseline.shadowed, candidate.shadowed, shadowed=True)
    for check in _CHECKS:
        check(out, baseline, candidate)
    benchmarks = _measured(out, baseline, candidate)

    findings: List[Finding] = []
    for finding in out.items:
        kept = policy.apply(finding)
        if kept is not None:
            findings.append(kept)
    findings.sort(key=sort_key)
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    verdict = next((s for s in reversed(SEVERITIES) if counts[s]), "none")
    return DriftReport(
        baseline=_summary(baseline, baseline_ref),
        candidate=_summary(candidate, candidate_ref),
        verdict=verdict,  # type: ignore[arg-type]
        fail_on=policy.fail_on,
        failed=reaches(verdict, policy.fail_on),
        counts=counts,
        findings=findings,
        benchmarks=sorted(benchmarks, key=lambda c: c.name),
    )
