"""Variables, seeds and code, with one finding per root cause.

Time zone (``TZ``, the zone name, the UTC offset), locale (the effective locale and encodings,
and the ``LANG``/``LC_*`` variables that set them) and thread count (the ``*_THREADS`` variables,
the usable cores, and each BLAS/OpenMP runtime whose thread count followed) each give one finding
that lists the related keys inside it, with one piece of advice. A variable that differs while the
effective value it sets agrees is ``info``: nothing a model sees changed.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..collect.envvars import INSTANCE, effective_io_encoding, variable_class
from .findings import Findings, same, show

# Determinism variables whose change alters results or their reproducibility (error); any other
# variable of the determinism set steers threads or performance (warning).
DETERMINISM_ERRORS = {
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
    "ATEN_CPU_CAPABILITY": "torch's CPU kernels (results differ in the last bits)",
    "DNNL_MAX_CPU_ISA": "oneDNN's instruction set (results differ in the last bits)",
    "ONEDNN_MAX_CPU_ISA": "oneDNN's instruction set (results differ in the last bits)",
}

# Framework switches that only set thread counts (warning); every other switch is an error.
FRAMEWORK_THREADS = {"num_threads", "num_interop_threads", "inter_op_threads", "intra_op_threads"}

UTC = {
    "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT",
    "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "GMT0", "Greenwich",
}

#: Variables that set the locale or the encodings Python uses (grouped with the effective values).
LOCALE_VARS = ("LANG", "LANGUAGE", "PYTHONUTF8")
LOCALE_PREFIXES = ("LC_",)
#: Effective locale fields of ``platform``, most telling first.
LOCALE_FIELDS: Tuple[Tuple[str, str], ...] = (
    ("locale", "another locale: string sorting, number and date parsing differ"),
    (
        "preferred_encoding",
        "another default text encoding: files read without encoding= decode differently",
    ),
    ("filesystem_encoding", "another file-system encoding: non-ASCII paths behave differently"),
)
GPU_AND_LIBRARY_VARS = ("CUDA_VISIBLE_DEVICES", "LD_PRELOAD", "LD_LIBRARY_PATH")
#: Variables that choose the time-zone rules (grouped with ``platform.tz_rules``).
TZ_RULES_VARS = ("PYTHONTZPATH", "TZDIR")
#: Variables compared by code elsewhere than :func:`env`.
_GROUPED = frozenset({"TZ", "PYTHONIOENCODING", *TZ_RULES_VARS})


def set_or_unset(name: str, value: Any) -> str:
    if value is None:
        return f"unset {name} in the candidate (the baseline does not set it)"
    return f"set {name}={value} in the candidate, as in the baseline"


def _zone(name: Optional[str]) -> Optional[str]:
    return "UTC" if name in UTC else name


def _is_locale_var(name: str) -> bool:
    return (name in LOCALE_VARS or name.startswith(LOCALE_PREFIXES)) and not _instance(name)


def _instance(name: str) -> bool:
    """A variable of this machine or process (a cache, a log level): never a finding."""
    return variable_class(name) == INSTANCE


def _diff_keys(a: Dict[str, Any], b: Dict[str, Any], names: Any) -> List[str]:
    return sorted(n for n in names if a.get(n) != b.get(n))


def timezone(out: Findings, pa: Dict[str, Any], pb: Dict[str, Any], ea: Dict[str, Any],
             eb: Dict[str, Any]) -> None:
    """One finding for the time zone: the zone name, its offset and ``TZ``; and one for the
    time-zone rules (see :func:`tz_rules`)."""
    tz_rules(out, pa, pb, ea, eb)
    za, zb = pa.get("timezone"), pb.get("timezone")
    oa, ob = pa.get("utc_offset_minutes"), pb.get("utc_offset_minutes")
    tz_differs = ea.get("TZ") != eb.get("TZ")
    related = ["env:TZ"] if tz_differs else []
    # The same zone at another time of year has another offset (DST): an offset alone is drift
    # only when neither side could name its zone.
    if _zone(za) != _zone(zb):
        key, va, vb = "timezone", za, zb
        if oa != ob:
            related.append("platform:utc_offset_minutes")
    elif za is None and zb is None and oa != ob:
        key, va, vb = "utc_offset_minutes", oa, ob
    else:
        if tz_differs:
            out.add(
                "env",
                "TZ",
                ea.get("TZ"),
                eb.get("TZ"),
                "info",
                f"TZ differs but the effective time zone is the same ({show(za)}); harmless, "
                f"or {set_or_unset('TZ', ea.get('TZ'))} to make it plain",
            )
        return
    todo = (
        set_or_unset("TZ", ea.get("TZ"))
        if tz_differs and (ea.get("TZ") is None or _zone(ea.get("TZ")) == _zone(za))
        else f"set TZ={za or 'UTC'} in the candidate"
    )
    out.add(
        "platform",
        key,
        va,
        vb,
        "warning",
        "another time zone: naive datetimes, day boundaries and date features shift; " + todo,
        related,
    )


#: Parts of ``platform.tz_rules``, most telling first.
TZ_RULES_FIELDS = ("version", "source", "tzpath", "tzdir", "tzdata", "pytz")


def tz_rules(out: Findings, pa: Dict[str, Any], pb: Dict[str, Any], ea: Dict[str, Any],
             eb: Dict[str, Any]) -> None:
    """One finding for the time-zone rules (which database, its version), with the variables
    that chose them. A side that does not record them (schema 2): unknown, no finding."""
    ra, rb = pa.get("tz_rules"), pb.get("tz_rules")
    variables = [f"env:{n}" for n in TZ_RULES_VARS if ea.get(n) != eb.get(n)]
    if not isinstance(ra, dict) or not isinstance(rb, dict):
        ra = rb = {}
    parts = [f for f in TZ_RULES_FIELDS if not same(ra.get(f), rb.get(f))]
    if not parts:
        if variables and (ra or rb):
            name = variables[0][len("env:"):]
            out.add("env", name, ea.get(name), eb.get(name), "info",
                    "the time-zone variables differ but the rules they choose are the same; "
                    "harmless", variables[1:])
        elif variables:
            name = variables[0][len("env:"):]
            out.add("env", name, ea.get(name), eb.get(name), "warning",
                    "chooses the time-zone rules (zoneinfo, the C library): "
                    f"{set_or_unset(name, ea.get(name))}", variables[1:])
        return
    first = parts[0]
    why = (
        f"other time-zone rules ({first} {show(ra.get(first))} -> {show(rb.get(first))}): the "
        "same instant converts to another local time where the rules changed (zoneinfo, pytz, "
        "datetime.astimezone)"
    )
    rules = [f"platform:tz_rules.{f}" for f in parts]
    if variables:
        # The variable that chose the rules is the cause a person (and bisect) restores.
        name = variables[0][len("env:"):]
        out.add("env", name, ea.get(name), eb.get(name), "warning",
                f"{why}; {set_or_unset(name, ea.get(name))}", variables[1:] + rules)
        return
    out.add("platform", f"tz_rules.{first}", ra.get(first), rb.get(first), "warning",
            f"{why}; install the baseline's time-zone data (the tzdata package or the "
            "system's)", rules[1:])


def io_encoding(out: Findings, pa: Dict[str, Any], pb: Dict[str, Any], ea: Dict[str, Any],
                eb: Dict[str, Any]) -> None:
    """``PYTHONIOENCODING``, compared as the effective stdin/stdout/stderr encoding."""
    va, vb = ea.get("PYTHONIOENCODING"), eb.get("PYTHONIOENCODING")
    if va == vb:
        return
    ia = effective_io_encoding(va, pa.get("preferred_encoding"))
    ib = effective_io_encoding(vb, pb.get("preferred_encoding"))
    if ia is not None and ib is not None and ia == ib:
        return  # e.g. PYTHONIOENCODING=utf-8 where the locale's encoding is UTF-8 anyway
    out.add(
        "env",
        "PYTHONIOENCODING",
        va,
        vb,
        "warning",
        f"another encoding of stdin/stdout/stderr ({show(ia)} -> {show(ib)}): "
        f"{set_or_unset('PYTHONIOENCODING', va)}",
    )


def locale(out: Findings, pa: Dict[str, Any], pb: Dict[str, Any], ea: Dict[str, Any],
           eb: Dict[str, Any]) -> None:
    """One finding for the locale: the effective locale and encodings, and the variables; and
    one for the effective stdio encoding (see :func:`io_encoding`)."""
    io_encoding(out, pa, pb, ea, eb)
    names = [n for n in ea.keys() | eb.keys() if _is_locale_var(n)]
    variables = [f"env:{n}" for n in _diff_keys(ea, eb, names)]
    effective = [f for f, _ in LOCALE_FIELDS if not same(pa.get(f), pb.get(f))]
    known = pa.get("locale") is not None and pb.get("locale") is not None
    if effective:
        field = effective[0]
        why = dict(LOCALE_FIELDS)[field]
        related = [f"platform:{f}" for f in effective[1:]] + variables
        if field == "locale":
            todo = f"set LC_ALL/LANG={pa.get('locale') or 'C.UTF-8'} in the candidate"
        elif field == "preferred_encoding":
            todo = "set PYTHONUTF8=1 or the baseline's locale"
        else:
            todo = "match the baseline's locale"
        out.add("platform", field, pa.get(field), pb.get(field), "warning", f"{why}; {todo}",
                related)
        return
    if not variables:
        return
    first = variables[0][len("env:"):]
    if known:
        out.add(
            "env",
            first,
            ea.get(first),
            eb.get(first),
            "info",
            f"locale variables differ but the effective locale and encodings are the same "
            f"({show(pa.get('locale'))}, {show(pa.get('preferred_encoding'))}); harmless",
            variables[1:],
        )
    else:
        out.add(
            "env",
            first,
            ea.get(first),
            eb.get(first),
            "warning",
            "changes the locale or text encoding (parsing, sorting, dates): "
            f"{set_or_unset(first, ea.get(first))}",
            variables[1:],
        )


def threads(
    out: Findings,
    da: Dict[str, Any],
    db: Dict[str, Any],
    ca: Dict[str, Any],
    cb: Dict[str, Any],
    runtimes: List[Tuple[str, Any, Any]],
) -> None:
    """One finding for the thread count: the variables, the usable cores and each runtime."""
    names = [n for n in da.keys() | db.keys() if "THREADS" in n and n not in DETERMINISM_ERRORS]
    variables = _diff_keys(da, db, names)
    runtime_keys = [k for k, _, _ in runtimes]
    cores = ca.get("usable_cores") != cb.get("usable_cores")
    if variables:
        first = variables[0]
        related = [f"determinism:{n}" for n in variables[1:]] + runtime_keys
        if cores:
            related.append("cpu:usable_cores")
        out.add(
            "determinism",
            first,
            da.get(first),
            db.get(first),
            "warning",
            "another thread count: speed and the summation order of threaded reductions "
            f"differ; {set_or_unset(first, da.get(first))}",
            related,
        )
    elif cores:
        out.add(
            "cpu",
            "usable_cores",
            ca.get("usable_cores"),
            cb.get("usable_cores"),
            "warning",
            "another number of usable cores: default thread counts follow it (speed, and the "
            "summation order of threaded reductions); set OMP_NUM_THREADS explicitly",
            runtime_keys,
        )
    elif runtimes:
        key, va, vb = runtimes[0]
        category, _, name = key.partition(":")
        out.add(
            category,
            name,
            va,
            vb,
            "warning",
            "another BLAS thread count: speed and reduction order differ; set "
            "OMP_NUM_THREADS/OPENBLAS_NUM_THREADS/MKL_NUM_THREADS explicitly",
            runtime_keys[1:],
        )


def determinism(out: Findings, a: Dict[str, Any], b: Dict[str, Any]) -> None:
    """Determinism variables (thread counts excepted: see :func:`threads`) and switches."""
    ea, eb = a.get("env") or {}, b.get("env") or {}
    seed_known = a.get("hash_seed") is not None or b.get("hash_seed") is not None
    for name in sorted(ea.keys() | eb.keys()):
        va, vb = ea.get(name), eb.get(name)
        if va == vb:
            continue
        if name == "PYTHONHASHSEED" and seed_known:
            continue  # schema 2 records the seed in effect: see hash_seed
        if _instance(name):
            continue
        if _set_by_library(name, va, vb, a, b):
            continue
        if name in DETERMINISM_ERRORS:
            out.add(
                "determinism",
                name,
                va,
                vb,
                "error",
                f"steers {DETERMINISM_ERRORS[name]}: {set_or_unset(name, va)}",
            )
        elif "THREADS" not in name:
            out.add(
                "determinism",
                name,
                va,
                vb,
                "warning",
                f"steers threading or a library's code path: {set_or_unset(name, va)}",
            )
    hash_seed(out, a.get("hash_seed"), b.get("hash_seed"))
    # Other recorded determinism values: any change is an error.
    for name in sorted((a.keys() | b.keys()) - _DETERMINISM_CODED):
        va, vb = a.get(name), b.get(name)
        scalar = not isinstance(va, (dict, list)) and not isinstance(vb, (dict, list))
        if scalar and not same(va, vb):
            out.add(
                "determinism",
                name,
                va,
                vb,
                "error",
                f"another {name.replace('_', ' ')}: results are not reproducible across the two; "
                f"use {show(va)} as the baseline did",
            )
    fa, fb = a.get("frameworks") or {}, b.get("frameworks") or {}
    for framework in sorted(fa.keys() | fb.keys()):
        sa, sb = fa.get(framework), fb.get(framework)
        if sa is None or sb is None:
            continue  # imported on one side only: still the same environment
        for switch in sorted(sa.keys() | sb.keys()):
            if switch == "version":  # the package list already compares versions
                continue
            sva, svb = sa.get(switch), sb.get(switch)
            if sva == svb:
                continue
            key = f"{framework}.{switch}"
            if switch == "cpu_capability":
                out.add(
                    "determinism",
                    key,
                    sva,
                    svb,
                    "warning",
                    f"{framework} runs other CPU kernels ({show(sva)} -> {show(svb)}): results "
                    "differ in the last bits; the CPU flags and ATEN_CPU_CAPABILITY findings "
                    "say why",
                )
            elif switch in FRAMEWORK_THREADS:
                out.add(
                    "determinism",
                    key,
                    sva,
                    svb,
                    "warning",
                    f"another thread count: speed and reduction order differ; set {key} to "
                    f"{show(sva)} at start-up",
                )
            else:
                out.add(
                    "determinism",
                    key,
                    sva,
                    svb,
                    "error",
                    f"a determinism/precision switch differs: set {key} = {show(sva)} at "
                    "start-up, as the baseline did",
                )


# Determinism keys compared by code: the variables, the framework switches, the hash seed (its
# randomization flag is implied by it) and the variables libraries set at import (instance).
_DETERMINISM_CODED = frozenset(
    {"env", "frameworks", "hash_seed", "hash_randomization", "library_env"}
)


def hash_seed(out: Findings, va: Optional[str], vb: Optional[str]) -> None:
    """The hash seed in effect (schema 2). A side that does not record it: unknown, no finding."""
    if va is None or vb is None or va == vb:
        return
    fix = "unset PYTHONHASHSEED" if va == "random" else f"start it with PYTHONHASHSEED={va}"
    out.add(
        "determinism",
        "PYTHONHASHSEED",
        va,
        vb,
        "error",
        "another hash seed in effect (str/bytes hash order, set iteration order): "
        f"{fix} in the candidate's environment (seed_everything cannot change it)",
    )


def _set_by_library(
    name: str, va: Any, vb: Any, a: Dict[str, Any], b: Dict[str, Any]
) -> bool:
    """A variable one side's library set at import (schema 2 ``library_env``) that the other
    side, a schema-1 capture, recorded as the user's: not drift."""
    la = (a.get("library_env") or {}).get(name)
    lb = (b.get("library_env") or {}).get(name)
    return (la is not None and la.get("value") == vb and va is None) or (
        lb is not None and lb.get("value") == va and vb is None
    )


def seeds(out: Findings, a: Dict[str, Any], b: Dict[str, Any]) -> None:
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


def env(out: Findings, a: Dict[str, Any], b: Dict[str, Any]) -> None:
    """Allowlisted variables, the time zone and locale ones excepted (grouped above)."""
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        if va == vb or name in _GROUPED or _is_locale_var(name) or _instance(name):
            continue
        if name in GPU_AND_LIBRARY_VARS:
            out.add(
                "env",
                name,
                va,
                vb,
                "warning",
                f"changes which GPUs or native libraries load: {set_or_unset(name, va)}",
            )
        else:
            out.add("env", name, va, vb, "info", f"{set_or_unset(name, va)} if it matters")


def code(out: Findings, a: Optional[Dict[str, Any]], b: Optional[Dict[str, Any]]) -> None:
    """Dirty flag and remotes (commit and branch are field rules)."""
    assert a is not None and b is not None
    da, db = a.get("dirty"), b.get("dirty")
    # Unknown (None) is not a difference: the start-up hook runs no git, so it cannot tell.
    if da is not None and db is not None and da != db:
        dirty = bool(db)
        out.add(
            "code",
            "dirty",
            da,
            db,
            "warning" if dirty else "info",
            "uncommitted changes in the candidate: commit them so the code can be reproduced"
            if dirty
            else "the baseline had uncommitted changes: its code cannot be reproduced exactly",
        )
    ra, rb = a.get("remotes") or {}, b.get("remotes") or {}
    for name in sorted(ra.keys() | rb.keys()):
        va, vb = ra.get(name), rb.get(name)
        if va != vb:
            out.add(
                "code", f"remote.{name}", va, vb, "info", "another git remote; usually harmless"
            )
