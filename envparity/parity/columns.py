"""Element-wise comparison of two decoded probe outputs, column by column.

The rule is NumPy's ``isclose`` with the baseline as the reference: ``|a - b| <= atol + rtol *
|b|`` (``b`` the baseline's value), NaN equal to NaN in the same place, infinities equal when
they are the same infinity. Integers, booleans, times, strings and categories compare exactly,
and so does any column registered ``exact``. :class:`ColumnReport` says what diverges in one
column; :func:`compare_outputs` compares two whole outputs (form, labels, columns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .encode import EXACT_KINDS, Column, Output

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
EXAMPLES = 3  # diverging rows shown per column


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

