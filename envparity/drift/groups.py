"""Variables grouped by root cause: one finding each for the time zone, the time-zone rules,
the locale, the stdio encoding and the thread count, listing the related keys inside it, with one
piece of advice. A variable that differs while the effective value it sets agrees is ``info``:
nothing a model sees changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple, Union

from ..collect.envvars import effective_io_encoding
from .findings import Findings, same, show
from .variable_sets import DETERMINISM_ERRORS, TZ_RULES_VARS, is_locale_var, set_or_unset

if TYPE_CHECKING:
    from .._shapes_snapshot import CpuInfo, PlatformInfo

UTC = {
    "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT",
    "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "GMT0", "Greenwich",
}

#: Effective locale fields of ``platform``, most telling first.
LOCALE_FIELDS: Tuple[Tuple[str, str], ...] = (
    ("locale", "another locale: string sorting, number and date parsing differ"),
    (
        "preferred_encoding",
        "another default text encoding: files read without encoding= decode differently",
    ),
    ("filesystem_encoding", "another file-system encoding: non-ASCII paths behave differently"),
)


def _zone(name: Optional[str]) -> Optional[str]:
    return "UTC" if name in UTC else name


def _diff_keys(a: Mapping[str, str], b: Mapping[str, str], names: Any) -> List[str]:
    return sorted(n for n in names if a.get(n) != b.get(n))


def timezone(out: Findings, pa: PlatformInfo, pb: PlatformInfo, ea: Mapping[str, str],
             eb: Mapping[str, str]) -> None:
    """One finding for the time zone: the zone name, its offset and ``TZ``; and one for the
    time-zone rules (see :func:`tz_rules`)."""
    tz_rules(out, pa, pb, ea, eb)
    za, zb = pa.get("timezone"), pb.get("timezone")
    oa, ob = pa.get("utc_offset_minutes"), pb.get("utc_offset_minutes")
    tz_differs = ea.get("TZ") != eb.get("TZ")
    related = ["env:TZ"] if tz_differs else []
    va: Union[str, int, None]  # the zone's name, or its UTC offset in minutes
    vb: Union[str, int, None]
    # The same zone at another time of year has another offset (DST): an offset alone is drift
    # only when neither side could name its zone.
    if _zone(za) != _zone(zb):
        key, va, vb = "timezone", za, zb
        if oa != ob:
            related.append("platform:utc_offset_minutes")
    elif za is None and zb is None and oa != ob:
        key, va, vb = "utc_offset_minutes", oa, ob
    else:
        # TZ is recorded, not identity: spelled otherwise with the same effective zone, it is
        # no difference (envparity.collect.envvars: "compared as the effective time zone").
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


def tz_rules(out: Findings, pa: PlatformInfo, pb: PlatformInfo, ea: Mapping[str, str],
             eb: Mapping[str, str]) -> None:
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


def io_encoding(out: Findings, pa: PlatformInfo, pb: PlatformInfo, ea: Mapping[str, str],
                eb: Mapping[str, str]) -> None:
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


def locale(out: Findings, pa: PlatformInfo, pb: PlatformInfo, ea: Mapping[str, str],
           eb: Mapping[str, str]) -> None:
    """One finding for the locale: the effective locale and encodings, and the variables; and
    one for the effective stdio encoding (see :func:`io_encoding`)."""
    io_encoding(out, pa, pb, ea, eb)
    names = [n for n in ea.keys() | eb.keys() if is_locale_var(n)]
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
    da: Mapping[str, str],
    db: Mapping[str, str],
    ca: CpuInfo,
    cb: CpuInfo,
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

