"""Compare two environments' probe records: one verdict, severity and explanation per probe.

The element-wise rule lives in :mod:`envparity.parity.columns`; this module turns two probe
records into a verdict (identical, within, beyond, changed, raised, partial, missing, skipped) with
its severity and its words, the notes from :mod:`envparity.parity.notes` attached.

Everything here takes and returns plain data: results are ``NumericResult`` dicts (as in a
snapshot's JSON), findings are dicts with the seven keys of :class:`envparity.model.Finding`, so
the drift engine can call :func:`compare_numerics` without the pydantic models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from .columns import DEFAULT_ATOL, DEFAULT_RTOL, ColumnReport, compare_outputs
from .encode import decode_text
from .notes import advise, cost_note, pep503, tolerance_note

_SHOWN_COLUMNS = 5


@dataclass
class ProbeComparison:
    """One probe, baseline against candidate. ``severity`` None: nothing to report."""

    name: str
    verdict: str  # identical, within, beyond, changed, raised, partial, missing, skipped, ...
    severity: Optional[str] = None
    change: str = "changed"
    why: str = ""
    columns: List[ColumnReport] = field(default_factory=list)
    baseline: Any = None
    candidate: Any = None

    def finding(self) -> Dict[str, Any]:
        """The plain finding dict (category ``numerics``, key = the probe's name)."""
        return {
            "category": "numerics",
            "key": self.name,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "severity": self.severity,
            "why": self.why,
        }

    def report(self) -> str:
        """The per-column report, one line per column that diverges (for test failures)."""
        failed = [c for c in self.columns if c.failed]
        if not failed:
            return self.why
        lines = [self.why.split("; " + failed[0].line())[0]]
        lines += [f"  {c.line()}" for c in failed]
        return "\n".join(lines)


def _plain(result: Any) -> Dict[str, Any]:
    if isinstance(result, dict):
        return result
    return result.model_dump(mode="json")  # type: ignore[no-any-return]


def _short(r: Optional[Mapping[str, Any]]) -> Optional[str]:
    if r is None:
        return None
    if r.get("status", "ok") != "ok":
        return str(r.get("status"))
    return (r.get("sha256") or "")[:12] or None



def _paren(text: str) -> str:
    return f" ({text})" if text else ""


def _sample_rel(b: Mapping[str, Any], c: Mapping[str, Any]) -> Optional[float]:
    bv, cv = b.get("values") or [], c.get("values") or []
    if not bv or len(bv) != len(cv):
        return None
    worst = 0.0
    for x, y in zip(bv, cv):
        if x == y or (math.isnan(x) and math.isnan(y)):
            continue
        scale = max(abs(x), abs(y))
        worst = max(worst, abs(x - y) / scale if scale and math.isfinite(scale) else math.inf)
    return worst


def compare_probe(
    name: str,
    base: Optional[Mapping[str, Any]],
    cand: Optional[Mapping[str, Any]],
    *,
    base_packages: Optional[Mapping[str, str]] = None,
    cand_packages: Optional[Mapping[str, str]] = None,
) -> ProbeComparison:
    """Compare one probe's records (``NumericResult`` dicts; either may be None: not run)."""
    pc = ProbeComparison(name, "identical", baseline=_short(base), candidate=_short(cand))

    def found(verdict: str, severity: Optional[str], why: str, change: str = "changed"):
        pc.verdict, pc.severity, pc.why, pc.change = verdict, severity, why, change
        return pc

    if base is None or cand is None:
        present = base if base is not None else cand
        assert present is not None
        if present.get("status") == "skipped":
            return found("skipped", None, "")
        side = "candidate" if base is None else "baseline"
        return found(
            "missing",
            "warning",
            f"probe {name} ran only on the {side}; register it on both sides (--probes MODULE "
            "or [tool.envparity] probes)",
            "added" if base is None else "removed",
        )
    bs, cs = base.get("status", "ok"), cand.get("status", "ok")
    if bs == "failed" and cs == "failed":
        same = base.get("reason") == cand.get("reason")
        detail = (
            f"raised on both sides: {base.get('reason')}"
            if same
            else f"raised on both sides: baseline {base.get('reason')}; candidate "
            f"{cand.get('reason')}"
        )
        return found("raised", "warning", f"probe {name} {detail}; nothing could be compared")
    if "failed" in (bs, cs):
        side, bad = ("candidate", cand) if cs == "failed" else ("baseline", base)
        return found(
            "raised",
            "error",
            f"probe {name} raised only on the {side}: {bad.get('reason')}; the same code and "
            "inputs cannot run there" + _paren(advise(base, cand, base_packages, cand_packages)),
        )
    if bs == "skipped" or cs == "skipped":
        if bs == cs:
            return found("skipped", None, "")
        side, bad = ("candidate", cand) if cs == "skipped" else ("baseline", base)
        return found(
            "skipped",
            "warning",
            f"probe {name} did not run on the {side}: {bad.get('reason')}; nothing compared",
        )
    for r in (base, cand):
        if (r.get("settings") or {}).get("PYTHONHASHSEED") == "random":
            return found("not compared", None, "")
    note = "; ".join(n for n in (tolerance_note(base, cand), cost_note(base, cand)) if n)
    if base.get("sha256") and base.get("sha256") == cand.get("sha256"):
        if note:
            return found("identical", "info", f"probe {name}: identical outputs; {note}")
        return pc  # the whole encodings are equal: every value matches
    if not base.get("output") or not cand.get("output"):
        return _partial(pc, name, base, cand, note)
    try:
        b_out, c_out = decode_text(base["output"]), decode_text(cand["output"])
    except Exception as e:  # noqa: BLE001 - a damaged or newer record: say so, never crash a diff
        return found("partial", "warning", f"probe {name}: a stored output cannot be decoded ({e})")
    reports, problem = compare_outputs(b_out, c_out, base)
    pc.columns = reports
    advice = advise(base, cand, base_packages, cand_packages)
    failed = [r for r in reports if r.failed]
    if problem is not None or any(r.problem for r in failed):
        shown = [problem] if problem else []
        shown += [r.line() for r in failed[:_SHOWN_COLUMNS]]
        return found(
            "changed",
            "error",
            f"probe {name}: {'; '.join(shown)}; the computation itself differs{_paren(advice)}"
            + (f"; {note}" if note else ""),
        )
    if failed:
        rtol, atol = base.get("rtol", DEFAULT_RTOL), base.get("atol", DEFAULT_ATOL)
        lines = [r.line() for r in failed[:_SHOWN_COLUMNS]]
        more = len(failed) - len(lines)
        columns = (
            f"{len(failed)} of {len(reports)} columns differ" if len(reports) > 1 else "differs"
        )
        return found(
            "beyond",
            "error",
            f"probe {name}: {columns} (the baseline's rtol {rtol:g}, atol {atol:g}); "
            + "; ".join(lines)
            + (f"; and {more} more columns" if more > 0 else "")
            + (f"; {advice}" if advice else "")
            + (f"; {note}" if note else ""),
        )
    worst = max((r.max_rel for r in reports if r.max_rel is not None), default=None)
    detail = f" (largest relative difference {worst:.3g})" if worst else ""
    return found(
        "within",
        "info",
        f"probe {name}: output bits differ but every value is within tolerance{detail}: another "
        "code path (SIMD kernel, BLAS, build), same results" + (f"; {note}" if note else ""),
    )


def _partial(
    pc: ProbeComparison,
    name: str,
    base: Mapping[str, Any],
    cand: Mapping[str, Any],
    note: Optional[str],
) -> ProbeComparison:
    sides = [s for s, r in (("baseline", base), ("candidate", cand)) if not r.get("output")]
    over = [s for s, r in (("baseline", base), ("candidate", cand)) if r.get("partial")]
    if over:
        caps = {r.get("max_bytes") for r in (base, cand) if r.get("partial")}
        cap = max((c for c in caps if c), default=None)
        why = (
            f"output over the {_mib(cap)} cap on the {' and '.join(over)}, not stored whole; "
            "raise it with register_probe(max_bytes=...) or ENVPARITY_PROBE_MAX_BYTES"
        )
    else:
        why = f"no stored output on the {' and '.join(sides)} (recorded by an older envparity)"
    rel = _sample_rel(base, cand)
    beyond = _sample_beyond(base, cand)
    if beyond:
        # A difference seen in the sample is a real one, whatever the rest holds.
        pc.verdict, pc.severity, pc.change = "beyond", "error", "changed"
        pc.why = (
            f"probe {name}: {beyond} of {len(base.get('values') or [])} sampled values beyond "
            f"tolerance (largest relative difference {rel:.3g}; the baseline's rtol "
            f"{base.get('rtol', DEFAULT_RTOL):g}, atol {base.get('atol', DEFAULT_ATOL):g}); "
            f"partial comparison: {why}" + (f"; {note}" if note else "")
        )
        return pc
    sampled = (
        f"; sampled values differ by up to {rel:.3g} (relative, within tolerance)"
        if rel
        else "; the sampled values match, the rest is unknown"
        if rel == 0.0
        else ""
    )
    pc.verdict, pc.severity, pc.change = "partial", "warning", "changed"
    pc.why = f"probe {name}: partial comparison, the outputs differ: {why}{sampled}" + (
        f"; {note}" if note else ""
    )
    return pc


def _sample_beyond(b: Mapping[str, Any], c: Mapping[str, Any]) -> int:
    bv, cv = b.get("values") or [], c.get("values") or []
    if not bv or len(bv) != len(cv):
        return 0
    rtol, atol = float(b.get("rtol", DEFAULT_RTOL)), float(b.get("atol", DEFAULT_ATOL))
    return sum(
        1
        for x, y in zip(bv, cv)
        if not (x == y or (math.isnan(x) and math.isnan(y)) or abs(y - x) <= atol + rtol * abs(x))
    )


def _mib(n: Optional[int]) -> str:
    if not n:
        return "size"
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} B"


def _names(a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]]) -> List[str]:
    names = [str(x["name"]) for x in a]
    seen = set(names)
    names += [str(x["name"]) for x in b if x["name"] not in seen]
    return names


def compare_all(
    baseline: Optional[Sequence[Any]],
    candidate: Optional[Sequence[Any]],
    *,
    base_packages: Optional[Mapping[str, str]] = None,
    cand_packages: Optional[Mapping[str, str]] = None,
    only: Optional[Iterable[str]] = None,
) -> List[ProbeComparison]:
    """Every probe on either side compared (``only``: just those names)."""
    if baseline is None or candidate is None:
        return []
    base = [_plain(r) for r in baseline]
    cand = [_plain(r) for r in candidate]
    b_by = {r["name"]: r for r in base}
    c_by = {r["name"]: r for r in cand}
    wanted = set(only) if only is not None else None
    out = []
    for name in _names(base, cand):
        if wanted is not None and name not in wanted:
            continue
        out.append(
            compare_probe(
                name,
                b_by.get(name),
                c_by.get(name),
                base_packages=base_packages,
                cand_packages=cand_packages,
            )
        )
    return out


def compare_numerics(
    baseline: Optional[Sequence[Any]],
    candidate: Optional[Sequence[Any]],
    *,
    base_packages: Optional[Mapping[str, str]] = None,
    cand_packages: Optional[Mapping[str, str]] = None,
) -> List[Dict[str, Any]]:
    """Plain finding dicts for the probes of two snapshots (``numerics`` lists, dicts or models).

    ``*_packages`` (name -> version, PEP 503 names) let a finding name the distributions that
    changed among those loaded when the probe ran. Either side without numerics: ``[]``.
    """
    return [
        pc.finding()
        for pc in compare_all(
            baseline, candidate, base_packages=base_packages, cand_packages=cand_packages
        )
        if pc.severity is not None
    ]


def packages_of(snapshot: Any) -> Dict[str, str]:
    """``{name: version}`` of a snapshot (model or dict), for :func:`compare_numerics`."""
    pkgs = snapshot.get("packages") if isinstance(snapshot, dict) else snapshot.packages
    out = {}
    for p in pkgs or []:
        name, version = (p["name"], p["version"]) if isinstance(p, dict) else (p.name, p.version)
        out[pep503(name)] = version
    return out
