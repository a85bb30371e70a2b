"""Compare two environments' probe outputs element by element, column by column.

The rule is NumPy's ``isclose`` with the baseline as the reference: ``|a - b| <= atol + rtol *
|b|`` (``b`` the baseline's value), NaN equal to NaN in the same place, infinities equal when
they are the same infinity. Integers, booleans, times, strings and categories compare exactly,
and so does any column registered ``exact``. The baseline's tolerances apply; a finding says so
when the candidate registered others.

Everything here takes and returns plain data: results are ``NumericResult`` dicts (as in a
snapshot's JSON), findings are dicts with the seven keys of :class:`envparity.model.Finding`, so
the drift engine can call :func:`compare_numerics` without the pydantic models.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .encode import EXACT_KINDS, Column, Output, decode_text

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
EXAMPLES = 3  # diverging rows shown per column
_SHOWN_COLUMNS = 5

# Top-level module -> distribution, where the names differ (the rest: PEP 503 of the module).
MODULE_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "dateutil": "python-dateutil",
    "bs4": "beautifulsoup4",
    "attr": "attrs",
    "google": "protobuf",
    "jaxlib": "jaxlib",
    "tensorflow": "tensorflow",
}
# Always named when loaded: the libraries whose version most often explains a numeric change.
_ALWAYS = ("numpy", "scipy", "pandas", "scikit-learn", "torch")


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class ColumnReport:
    """How one column of an output compares: what diverges, by how much, and where."""

    name: str
    rows: int
    diverging: int = 0
    max_abs: Optional[float] = None
    max_rel: Optional[float] = None
    examples: List[Tuple[Any, Any, Any]] = field(default_factory=list)  # (row, base, cand)
    problem: Optional[str] = None  # a dtype, shape or category change
    exact: bool = False
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    @property
    def failed(self) -> bool:
        return self.problem is not None or self.diverging > 0

    def line(self) -> str:
        """``column 'b': 1 of 10000 rows (0.01%) differ, max abs 0.005, max rel 0.01; row
        4711: 0.5 -> 0.505``."""
        label = f"column {self.name!r}" if self.name else "output"
        if self.problem:
            return f"{label}: {self.problem}"
        share = self.diverging / self.rows if self.rows else 0.0
        rule = "exactly" if self.exact else f"rtol {self.rtol:g}, atol {self.atol:g}"
        text = (
            f"{label}: {self.diverging} of {self.rows} row{'s' if self.rows != 1 else ''} "
            f"({share:.2%}) differ ({rule})"
        )
        if self.max_abs is not None:
            text += f", max abs diff {self.max_abs:.3g}"
        if self.max_rel is not None:
            text += f", max rel diff {self.max_rel:.3g}"
        if self.examples:
            shown = "; ".join(f"row {r}: {_fmt(b)} -> {_fmt(c)}" for r, b, c in self.examples)
            text += f"; {shown}"
        return text

    def as_dict(self) -> Dict[str, Any]:
        return {
            "column": self.name,
            "rows": self.rows,
            "diverging": self.diverging,
            "share": (self.diverging / self.rows) if self.rows else 0.0,
            "max_abs": self.max_abs,
            "max_rel": self.max_rel,
            "examples": [list(e) for e in self.examples],
            "problem": self.problem,
        }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return repr(value) if isinstance(value, str) else str(value)


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


# --- element-wise comparison -------------------------------------------------------------------


def _tolerance(name: str, r: Mapping[str, Any]) -> Tuple[float, float, bool]:
    rtol = float(r.get("rtol", DEFAULT_RTOL))
    atol = float(r.get("atol", DEFAULT_ATOL))
    col = (r.get("columns") or {}).get(name) or {}
    if col.get("rtol") is not None:
        rtol = float(col["rtol"])
    if col.get("atol") is not None:
        atol = float(col["atol"])
    return rtol, atol, bool(col.get("exact"))


def _np() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _row_label(index: int, shape: Sequence[int]) -> Any:
    if len(shape) <= 1:
        return index
    # A flat index into an N-d output: the element's position, as NumPy would print it.
    out = []
    for dim in reversed(shape):
        out.append(index % dim)
        index //= dim
    return tuple(reversed(out))


def _value(v: Any) -> Any:
    item = getattr(v, "item", None)
    return item() if item is not None else v


def _compare_numpy(
    np: Any, b: Any, c: Any, report: ColumnReport, exact: bool, per_row: bool
) -> None:
    """Fill ``report`` from two same-shape arrays (rows along axis 0 when ``per_row``)."""
    if b.dtype.kind in "fc":
        with np.errstate(all="ignore"):
            same = (b == c) | (np.isnan(b) & np.isnan(c))
            if exact:
                ok = same
            else:
                diff_all = np.abs(c - b)
                ok = same | (diff_all <= report.atol + report.rtol * np.abs(b))
    else:
        ok = b == c
    bad = ~ok
    if not bad.any():
        if b.dtype.kind in "fc" and not exact and not same.all():
            # Every value within tolerance: still say how far apart those that moved are
            # (another SIMD kernel's last bits).
            _largest_differences(np, b, c, ~same, report)
        return
    if per_row and b.ndim > 1:
        rows_bad = bad.reshape(b.shape[0], -1).any(axis=1)
    else:
        rows_bad = bad.reshape(-1)
    report.diverging = int(np.count_nonzero(rows_bad))
    if b.dtype.kind in "fciu":
        _largest_differences(np, b, c, bad, report)
    flat_b, flat_c = b.reshape(-1), c.reshape(-1)
    positions = np.flatnonzero(bad.reshape(-1))[: EXAMPLES * 4]
    seen = set()
    for pos in positions.tolist():
        label = _row_label(pos, b.shape)
        row = label[0] if per_row and isinstance(label, tuple) else label
        if row in seen:
            continue
        seen.add(row)
        report.examples.append((label, _value(flat_b[pos]), _value(flat_c[pos])))
        if len(report.examples) == EXAMPLES:
            break


def _largest_differences(np: Any, b: Any, c: Any, where: Any, report: ColumnReport) -> None:
    """``report.max_abs`` and ``max_rel`` over the elements ``where`` marks (numbers)."""
    with np.errstate(all="ignore"):
        bf = b[where].astype(np.complex128 if b.dtype.kind == "c" else np.float64)
        diff = np.abs(c[where].astype(bf.dtype) - bf)
        finite = np.isfinite(diff)
        if finite.any():
            report.max_abs = float(diff[finite].max())
            scale = np.abs(bf)
            nz = finite & (scale > 0)
            if nz.any():
                report.max_rel = float((diff[nz] / scale[nz]).max())
        if not finite.all():  # NaN on one side only, or inf against a number
            report.max_abs = math.inf


def _compare_python(b: List[Any], c: List[Any], report: ColumnReport, exact: bool) -> None:
    """The same rule over plain Python values (strings, or numbers without NumPy)."""
    worst_abs: Optional[float] = None
    worst_rel: Optional[float] = None
    within_abs = within_rel = 0.0  # differences inside the tolerance
    for i, (x, y) in enumerate(zip(b, c)):
        if x == y:
            continue
        numeric = isinstance(x, (int, float, complex)) and isinstance(y, (int, float, complex))
        if numeric and not isinstance(x, bool):
            if _isnan(x) and _isnan(y):
                continue
            d = abs(y - x)
            if not exact and d <= report.atol + report.rtol * abs(x):
                within_abs = max(within_abs, d)
                if x != 0:
                    within_rel = max(within_rel, d / abs(x))
                continue
            if math.isfinite(d):
                worst_abs = max(worst_abs or 0.0, d)
                if x != 0:
                    worst_rel = max(worst_rel or 0.0, d / abs(x))
            else:
                worst_abs = math.inf
        report.diverging += 1
        if len(report.examples) < EXAMPLES:
            report.examples.append((i, x, y))
    if report.diverging == 0 and within_abs > 0:
        worst_abs, worst_rel = within_abs, within_rel or None
    report.max_abs, report.max_rel = worst_abs, worst_rel


def _isnan(v: Any) -> bool:
    return (
        isinstance(v, float)
        and math.isnan(v)
        or (isinstance(v, complex) and (math.isnan(v.real) or math.isnan(v.imag)))
    )


def compare_columns(
    b: Column, c: Column, rtol: float, atol: float, exact: bool, *, per_row: bool = True
) -> ColumnReport:
    """One column of each side, compared under the baseline's tolerances."""
    exact = exact or b.kind in EXACT_KINDS
    report = ColumnReport(b.name, b.rows, exact=exact, rtol=rtol, atol=atol)
    if b.kind != c.kind or b.dtype != c.dtype:
        report.problem = f"dtype changed from {b.dtype} to {c.dtype}"
        return report
    if list(b.shape) != list(c.shape):
        report.problem = f"shape changed from {tuple(b.shape)} to {tuple(c.shape)}"
        return report
    if b.kind == "category" and b.categories != c.categories:
        new = [x for x in c.categories or [] if x not in (b.categories or [])]
        gone = [x for x in b.categories or [] if x not in (c.categories or [])]
        parts = []
        if new:
            parts.append(f"new categor{'y' if len(new) == 1 else 'ies'} {new}")
        if gone:
            parts.append(f"categor{'y' if len(gone) == 1 else 'ies'} {gone} gone")
        if not parts:
            parts.append(f"categories reordered: {b.categories} -> {c.categories}")
        report.problem = "; ".join(parts) + " (category codes no longer line up)"
        _compare_python(b.data, c.data, report, True)
        return report
    np = _np()
    if np is not None and hasattr(b.data, "dtype"):
        _compare_numpy(np, b.data, c.data, report, exact, per_row)
    else:
        bl = b.data if isinstance(b.data, list) else list(b.data)
        cl = c.data if isinstance(c.data, list) else list(c.data)
        _compare_python(bl, cl, report, exact)
    return report


def _split_2d(out: Output) -> List[Column]:
    """A 2-D array's columns (``"0"``, ``"1"``, ...), so a report names the column that moved."""
    col = out.columns[0]
    if out.form != "array" or len(col.shape) != 2 or not hasattr(col.data, "dtype"):
        return out.columns
    return [
        Column(str(j), col.kind, col.dtype, [col.shape[0]], col.data[:, j])
        for j in range(col.shape[1])
    ]


def compare_outputs(
    b: Output, c: Output, base: Mapping[str, Any]
) -> Tuple[List[ColumnReport], Optional[str]]:
    """Per-column reports and a structural problem (form, columns), under ``base``'s tolerances."""
    if b.form != c.form:
        return [], f"output changed from {b.describe()} to {c.describe()}"
    if b.form != "table" and (b.columns[0].shape != c.columns[0].shape):
        return [], f"output changed from {b.describe()} to {c.describe()}"
    b_cols, c_cols = _split_2d(b), _split_2d(c)
    if b.labels is None or c.labels is None:
        # One side was encoded before pandas labels were recorded: compare the values only.
        b_cols = [x for x in b_cols if x.role != "index"]
        c_cols = [x for x in c_cols if x.role != "index"]
    b_names = [x.name for x in b_cols]
    c_by = {x.name: x for x in c_cols}
    missing = [n for n in b_names if n not in c_by]
    added = [x.name for x in c_cols if x.name not in set(b_names)]
    problem = _labels_problem(b.labels, c.labels)
    if missing or added:
        parts = [problem] if problem else []
        if missing:
            parts.append(f"columns {missing} gone")
        if added:
            parts.append(f"columns {added} new")
        problem = "; ".join(parts)
    reports = []
    for col in b_cols:
        other = c_by.get(col.name)
        if other is None:
            continue
        rtol, atol, exact = _tolerance(col.name, base)
        # An index holds labels (dates, ids), not results: they match exactly or not at all.
        exact = exact or col.role == "index" or other.role == "index"
        reports.append(compare_columns(col, other, rtol, atol, exact))
    return reports, problem


_LABEL_PARTS = (
    ("kind", "pandas type"),
    ("name", "Series name"),
    ("index_names", "index names"),
    ("index_dtypes", "index dtypes"),
    ("column_names", "column-label names"),
    ("column_dtype", "column-label dtype"),
)


def _labels_problem(b: Optional[Dict[str, Any]], c: Optional[Dict[str, Any]]) -> Optional[str]:
    """What changed in a pandas output's labels (index and column names and dtypes)."""
    if b is None or c is None:
        return None
    parts = [
        f"{what} changed from {b.get(k)!r} to {c.get(k)!r}"
        for k, what in _LABEL_PARTS
        if b.get(k) != c.get(k)
    ]
    return "; ".join(parts) or None


# --- one probe -------------------------------------------------------------------------------


# One call each side: only a large, absolute difference is worth a line next to the values.
COST_RATIO = 2.0
_MIN_WALL_S = 0.05
_MIN_PEAK = 8 * 2**20


def _cost_note(b: Mapping[str, Any], c: Mapping[str, Any]) -> Optional[str]:
    """``2.4x slower (60 ms -> 144 ms)`` / ``3.1x the memory (...)`` when the probe's one call
    took far more time or Python memory here; None otherwise."""
    parts = []
    bw, cw = b.get("wall_s"), c.get("wall_s")
    if bw and cw and cw >= COST_RATIO * bw and cw - bw >= _MIN_WALL_S:
        parts.append(f"{cw / bw:.1f}x slower ({bw * 1e3:.0f} ms -> {cw * 1e3:.0f} ms, one call)")
    bp, cp = b.get("peak_bytes"), c.get("peak_bytes")
    if bp is not None and cp and cp >= COST_RATIO * bp and cp - bp >= _MIN_PEAK:
        times = f"{cp / bp:.1f}x the memory" if bp else "more memory"
        parts.append(f"{times} (peak {bp / 2**20:.1f} MiB -> {cp / 2**20:.1f} MiB)")
    return ", ".join(parts) or None


def _tolerances(r: Mapping[str, Any]) -> Tuple[float, float, Dict[str, Any]]:
    """The tolerances a record applies, defaults filled in: a record that leaves a value out
    (a trial child's plain record) registered the same as one that spells the default (a stored
    ``NumericResult``, whose column overrides carry ``atol: null, exact: false``)."""

    def number(value: Any, default: Optional[float]) -> Optional[float]:
        return default if value is None else float(value)

    columns = {
        str(name): (
            number(col.get("rtol"), None), number(col.get("atol"), None), bool(col.get("exact"))
        )
        for name, col in (r.get("columns") or {}).items()
        if isinstance(col, Mapping)
    }
    return (
        number(r.get("rtol"), DEFAULT_RTOL) or 0.0,
        number(r.get("atol"), DEFAULT_ATOL) or 0.0,
        columns,
    )


def _tolerance_note(b: Mapping[str, Any], c: Mapping[str, Any]) -> Optional[str]:
    if _tolerances(b) == _tolerances(c):
        return None
    return (
        f"the candidate registered other tolerances (rtol {c.get('rtol')}, atol "
        f"{c.get('atol')}, columns {c.get('columns') or {}}); the baseline's apply "
        f"(rtol {b.get('rtol')}, atol {b.get('atol')}, columns {b.get('columns') or {}})"
    )


def _changed_distributions(
    b: Mapping[str, Any],
    c: Mapping[str, Any],
    base_packages: Optional[Mapping[str, str]],
    cand_packages: Optional[Mapping[str, str]],
) -> List[str]:
    if base_packages is None or cand_packages is None:
        return []
    loaded = set(b.get("loaded") or []) | set(c.get("loaded") or [])
    names = {_pep503(MODULE_DISTRIBUTIONS.get(m, m)) for m in loaded}
    out = []
    for name in sorted(names):
        old, new = base_packages.get(name), cand_packages.get(name)
        if old != new and (old is not None or new is not None):
            out.append(f"{name} {old or 'absent'} -> {new or 'absent'}")
    # The usual suspects first: they explain most numeric changes.
    out.sort(key=lambda s: (s.split(" ")[0] not in _ALWAYS, s))
    return out


def _changed_settings(b: Mapping[str, Any], c: Mapping[str, Any]) -> List[str]:
    bs, cs = b.get("settings") or {}, c.get("settings") or {}
    out = []
    for key in sorted(set(bs) | set(cs)):
        if bs.get(key) != cs.get(key):
            out.append(f"{key} {bs.get(key)!r} -> {cs.get(key)!r}")
    return out


def _advice(
    b: Mapping[str, Any],
    c: Mapping[str, Any],
    base_packages: Optional[Mapping[str, str]],
    cand_packages: Optional[Mapping[str, str]],
) -> str:
    parts = []
    if b.get("setting"):
        parts.append(f"explained by {b['setting']}")
    settings = _changed_settings(b, c)
    if settings:
        parts.append("settings that changed: " + ", ".join(settings))
    dists = _changed_distributions(b, c, base_packages, cand_packages)
    if dists:
        parts.append("changed among the libraries loaded when it ran: " + ", ".join(dists[:8]))
    if not parts and base_packages is not None:
        parts.append(
            "same versions of the loaded libraries: look at the BLAS, the CPU code path or the "
            "build"
        )
    return "; ".join(parts)


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
            "inputs cannot run there" + _paren(_advice(base, cand, base_packages, cand_packages)),
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
    note = "; ".join(n for n in (_tolerance_note(base, cand), _cost_note(base, cand)) if n)
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
    advice = _advice(base, cand, base_packages, cand_packages)
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
        out[_pep503(name)] = version
    return out
