"""Measurements: numeric probes and benchmarks, compared by ``envparity.bench.compare``.

Benchmark text is table-driven (:data:`VERDICT_TEXT`): a new verdict is one row. Every ratio is
the candidate's time over the baseline's, its confidence interval in the same orientation, and
times carry a unit chosen per value (ns, us, ms, s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, cast

from .findings import Findings

if TYPE_CHECKING:
    from .._shapes_measures import BenchmarkComparison
    from .._shapes_snapshot import Snapshot

#: Verdict -> how a comparison reads. Fields: ratio, ci, base, cand, why, verdict.
VERDICT_TEXT: Dict[str, str] = {
    "slower": "{ratio}x slower ({ci}; {base} -> {cand})",
    "faster": "{ratio}x the baseline's time, faster ({ci}; {base} -> {cand})",
    "same": "same ({ratio}x, {ci}; {base} -> {cand})",
    "inconclusive": "inconclusive: {ratio}x ({ci}; {base} -> {cand}), neither the same nor "
    "clearly different: {why}",
    # The statistics say which cause it was: processes that disagree, or a side's contention.
    "unstable": "unstable: {why}",
    "missing": "missing: {why}",
    "failed": "failed: {why}",
    "skipped": "skipped: {why}",
}
#: Verdicts that are findings, with their severity.
VERDICT_SEVERITY: Dict[str, str] = {"slower": "warning"}
#: Memory verdicts that are findings (peak Python allocations), with their severity.
MEMORY_SEVERITY: Dict[str, str] = {"more": "warning"}

_UNITS: Tuple[Tuple[float, str], ...] = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))


def duration(seconds: Optional[float]) -> str:
    """``6.17 ms``: three significant digits in the largest unit not above the value."""
    if seconds is None:
        return "?"
    for scale, unit in _UNITS:
        if abs(seconds) >= scale or unit == "ns":
            value = seconds / scale
            digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
            return f"{value:.{digits}f} {unit}"
    return f"{seconds} s"  # pragma: no cover


def _size(n: Optional[int]) -> Optional[str]:
    """``1.5 MiB``: peak allocations with a binary unit."""
    if n is None:
        return None
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def benchmark_text(c: Mapping[str, Any]) -> str:
    """One comparison as a person reads it: ``1.83x slower (99% CI 1.70-1.95; 6.17 ms -> ...)``."""
    verdict = str(c.get("verdict"))
    ratio, low, high = c.get("ratio"), c.get("ci_low"), c.get("ci_high")
    confidence = c.get("confidence") or 0.99
    ci = (
        f"{confidence:.0%} CI {low:.2f}-{high:.2f}"
        if low is not None and high is not None
        else "no CI"
    )
    template = VERDICT_TEXT.get(verdict, verdict + ": {why}")
    if ratio is None and "{ratio}" in template:
        template = verdict + ": {why}"
    text = template.format(
        ratio="?" if ratio is None else f"{ratio:.2f}",
        ci=ci,
        base=duration(c.get("baseline_median_s")),
        cand=duration(c.get("candidate_median_s")),
        why=c.get("why") or "",
        verdict=verdict,
    )
    reach = reach_text(c.get("detectable_effect"))
    return f"{text}; {reach}" if reach and ratio is not None else text


def reach_text(effect: Optional[float]) -> str:
    """``could detect >= 25% here``: the smallest effect a comparison could have called."""
    if effect is None:
        return ""
    return f"could detect >= {effect:.0%} here"


def compare(
    out: Findings, base: Snapshot, cand: Snapshot
) -> List[BenchmarkComparison]:
    """Numeric probe findings and benchmark comparisons (as dicts) of two snapshots' data."""
    comparisons: List[BenchmarkComparison] = []
    bn, cn = base.get("numerics"), cand.get("numerics")
    bb, cb = base.get("benchmarks"), cand.get("benchmarks")
    if bn and cn:
        # Parity probes: whole outputs compared element-wise (envparity.parity), plain dicts.
        from ..parity.compare import compare_numerics, packages_of

        for d in compare_numerics(
            bn, cn, base_packages=packages_of(base), cand_packages=packages_of(cand)
        ):
            out.add(d["category"], d["key"], d["baseline"], d["candidate"], d["severity"],
                    d["why"])
    if not (bb and cb):
        return comparisons
    try:
        from ..bench.compare import compare_benchmarks
    except ModuleNotFoundError as e:  # pragma: no cover - a build without envparity.bench
        if e.name not in ("envparity.bench", "envparity.bench.compare"):
            raise
        return comparisons
    from ..model import BenchmarkRun

    for c in compare_benchmarks(
        BenchmarkRun.model_validate(bb), BenchmarkRun.model_validate(cb)
    ):
        # The model's own JSON data: the TypedDict generated from it, by construction.
        data = cast("BenchmarkComparison", c.model_dump(mode="json"))
        comparisons.append(data)
        severity = VERDICT_SEVERITY.get(c.verdict)
        if severity:
            out.add(
                "benchmark",
                c.name,
                duration(c.baseline_median_s),
                duration(c.candidate_median_s),
                severity,
                f"{benchmark_text(data)}: look at the BLAS, CPU and thread findings, or profile "
                "the candidate",
            )
        if c.memory_verdict in MEMORY_SEVERITY:
            out.add(
                "benchmark",
                f"{c.name}.memory",
                _size(c.baseline_peak_bytes),
                _size(c.candidate_peak_bytes),
                MEMORY_SEVERITY[c.memory_verdict],
                f"allocates more, {c.memory_why}: look at the package versions it uses",
            )
    comparisons.sort(key=lambda d: d["name"])
    return comparisons
