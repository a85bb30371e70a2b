"""Variables, seeds and code, with one finding per root cause.

Time zone (``TZ``, the zone name, the UTC offset), locale (the effective locale and encodings,
and the ``LANG``/``LC_*`` variables that set them) and thread count (the ``*_THREADS`` variables,
the usable cores, and each BLAS/OpenMP runtime whose thread count followed) each give one finding
that lists the related keys inside it, with one piece of advice. A variable that differs while the
effective value it sets agrees is ``info``: nothing a model sees changed.

The grouped findings live in :mod:`envparity.drift.groups`; this module holds the
per-variable rules (determinism variables and switches, the hash seed, seeds, the other
allowlisted variables, code) and re-exports the group functions the engine calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from .findings import Findings, same, show
from .groups import io_encoding as io_encoding
from .groups import locale as locale
from .groups import threads as threads
from .groups import timezone as timezone
from .groups import tz_rules as tz_rules
from .variable_sets import DETERMINISM_ERRORS as DETERMINISM_ERRORS
from .variable_sets import (
    GPU_AND_LIBRARY_VARS,
    GROUPED,
    is_instance,
    is_locale_var,
    set_or_unset,
)

if TYPE_CHECKING:
    from .._shapes_snapshot import CodeInfo, Determinism

# Framework switches that only set thread counts (warning); every other switch is an error.
FRAMEWORK_THREADS = {"num_threads", "num_interop_threads", "inter_op_threads", "intra_op_threads"}


def determinism(out: Findings, a: Determinism, b: Determinism) -> None:
    """Determinism variables (thread counts excepted: see :func:`threads`) and switches."""
    ea, eb = a.get("env") or {}, b.get("env") or {}
    va: object  # a variable's value, then another recorded determinism value's
    vb: object
    seed_known = a.get("hash_seed") is not None or b.get("hash_seed") is not None
    for name in sorted(ea.keys() | eb.keys()):
        va, vb = ea.get(name), eb.get(name)
        if va == vb:
            continue
        if name == "PYTHONHASHSEED" and seed_known:
            continue  # schema 2 records the seed in effect: see hash_seed
        if is_instance(name):
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
    name: str, va: Any, vb: Any, a: Determinism, b: Determinism
) -> bool:
    """A variable one side's library set at import (schema 2 ``library_env``) that the other
    side, a schema-1 capture, recorded as the user's: not drift."""
    la = (a.get("library_env") or {}).get(name)
    lb = (b.get("library_env") or {}).get(name)
    return (la is not None and la.get("value") == vb and va is None) or (
        lb is not None and lb.get("value") == va and vb is None
    )


def seeds(
    out: Findings,
    a: Mapping[str, Union[bool, int, float, str, None]],
    b: Mapping[str, Union[bool, int, float, str, None]],
) -> None:
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


def env(out: Findings, a: Mapping[str, str], b: Mapping[str, str]) -> None:
    """Allowlisted variables, the time zone and locale ones excepted (see :mod:`.groups`)."""
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name), b.get(name)
        if va == vb or name in GROUPED or is_locale_var(name) or is_instance(name):
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


def code(out: Findings, a: Optional[CodeInfo], b: Optional[CodeInfo]) -> None:
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
