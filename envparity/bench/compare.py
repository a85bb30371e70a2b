"""Compare two environments' benchmark runs and numeric probe results (called by ``diff``)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, TypeVar

from ..model import BenchmarkComparison, BenchmarkResult, BenchmarkRun, Finding, NumericResult
from .stats import decide, decide_memory, decide_paired, median, seed_for
from .suite import CUDA_TIMED, PAIRED_SUFFIX

T = TypeVar("T", BenchmarkResult, NumericResult)


def _by_name(items: Sequence[T]) -> Dict[str, T]:
    return {item.name: item for item in items}


def _names(a: Sequence[T], b: Sequence[T]) -> List[str]:
    names = [x.name for x in a]
    names += [x.name for x in b if x.name not in set(names)]
    return names


def conditions_line(run: Optional[BenchmarkRun]) -> Optional[str]:
    """One line for a report: load, others' share of the CPUs, steal, frequency, CPUs."""
    if run is None or run.conditions is None:
        return None if run is None else "conditions not recorded (a run from before 0.2)"
    c = run.conditions
    parts = []
    if c.load_avg:
        parts.append(f"load {c.load_avg[0]:g}")
    if c.contention is not None:
        parts.append(f"others held {c.contention:.0%} of the CPUs (median worker)")
    steal = [w.steal_s / w.seconds for w in c.workers if w.steal_s is not None and w.seconds]
    if steal:
        parts.append(f"steal {median(steal):.0%}")
    cpus = c.affinity_cpus or c.cpu_count
    if cpus:
        quota = f", quota {c.quota_cpus:g}" if c.quota_cpus else ""
        parts.append(f"{cpus} CPUs{quota}")
    if c.freq_mhz:
        gov = f" {c.governor}" if c.governor else ""
        parts.append(f"{c.freq_mhz / 1000:.2f} GHz{gov}")
    if c.contended:
        parts.append("CONTENDED")
    return ", ".join(parts) or "conditions not readable here"


def affected_by_contention(name: str) -> bool:
    """Whether other processes on the CPUs could change this benchmark's time: all of them but
    those timed on the GPU with CUDA events."""
    return name not in CUDA_TIMED


def _paired(baseline: BenchmarkRun, candidate: BenchmarkRun) -> bool:
    """Runs from one ``bench --against``: the same rounds, interleaved (marked by the runner)."""
    return (
        baseline.suite.endswith(PAIRED_SUFFIX)
        and candidate.suite == baseline.suite
        and baseline.processes == candidate.processes
    )


def compare_benchmarks(
    baseline: Optional[BenchmarkRun],
    candidate: Optional[BenchmarkRun],
    *,
    min_effect: float = 0.05,
    confidence: float = 0.99,
) -> List[BenchmarkComparison]:
    """One :class:`~envparity.model.BenchmarkComparison` per benchmark on either side.

    ``ratio`` is the candidate's time over the baseline's (>1: slower), each side's time the
    median sample of its fastest worker process (see :mod:`.stats`); for the two runs of one
    ``bench --against``, the median of the per-round ratios. A side whose conditions show
    contention holds back every call on the benchmarks contention can affect (``unstable``,
    saying which side), unless the runs were interleaved. Each comparison carries both sides'
    conditions and a memory verdict. A side without a run at all makes every benchmark of the
    other ``missing``; neither side: ``[]``.
    """
    if baseline is None and candidate is None:
        return []
    base = _by_name(baseline.results if baseline else [])
    cand = _by_name(candidate.results if candidate else [])
    paired = baseline is not None and candidate is not None and _paired(baseline, candidate)
    contended = [
        side
        for side, run in (("baseline", baseline), ("candidate", candidate))
        if run is not None and run.conditions is not None and run.conditions.contended
    ]
    lines = {
        "baseline_conditions": conditions_line(baseline),
        "candidate_conditions": conditions_line(candidate),
    }
    out = []
    for name in _names(list(base.values()), list(cand.values())):
        b, c = base.get(name), cand.get(name)
        held = [] if paired or not affected_by_contention(name) else contended
        one = _compare_one(name, b, c, min_effect, confidence, paired, held)
        out.append(one.model_copy(update=lines))
    return out


def _compare_one(
    name: str,
    b: Optional[BenchmarkResult],
    c: Optional[BenchmarkResult],
    min_effect: float,
    confidence: float,
    paired: bool,
    contended: List[str],
) -> BenchmarkComparison:
    def result(verdict: str, why: str, **kw: object) -> BenchmarkComparison:
        return BenchmarkComparison(
            name=name,
            verdict=verdict,  # type: ignore[arg-type]
            why=why,
            confidence=confidence,
            min_effect=min_effect,
            **kw,  # type: ignore[arg-type]
        )

    if b is None or c is None:
        side = "baseline" if b is None else "candidate"
        return result("missing", f"not run on the {side}; run the same suite on both sides")
    for side, r in (("baseline", b), ("candidate", c)):
        if r.status == "failed":
            return result("failed", f"failed on the {side}: {r.reason}")
    for side, r in (("baseline", b), ("candidate", c)):
        if r.status == "skipped":
            return result("skipped", f"skipped on the {side}: {r.reason}")
    if not any(b.samples) or not any(c.samples):
        side = "baseline" if not any(b.samples) else "candidate"
        return result("failed", f"no samples on the {side}")
    if paired and len(b.samples) == len(c.samples):
        v = decide_paired(b.samples, c.samples, min_effect=min_effect, confidence=confidence)
    else:
        v = decide(
            b.samples,
            c.samples,
            min_effect=min_effect,
            confidence=confidence,
            seed=seed_for(name),
            contended=contended,
        )
    memory = decide_memory(_peaks(b), _peaks(c))
    return result(
        v.verdict,
        v.why,
        ratio=v.ratio,
        ci_low=v.ci_low,
        ci_high=v.ci_high,
        p_value=v.p_value,
        paired=paired and len(b.samples) == len(c.samples),
        baseline_median_s=v.baseline_median,
        candidate_median_s=v.candidate_median,
        contended_sides=list(v.held_by),
        memory_verdict=memory.verdict if memory else None,
        memory_ratio=memory.ratio if memory else None,
        baseline_peak_bytes=memory.baseline if memory else None,
        candidate_peak_bytes=memory.candidate if memory else None,
        memory_why=memory.why if memory else "",
    )


def _peaks(r: BenchmarkResult) -> List[int]:
    if r.peaks_bytes:
        return list(r.peaks_bytes)
    return [] if r.peak_memory_bytes is None else [r.peak_memory_bytes]


def relative_difference(a: Sequence[float], b: Sequence[float]) -> float:
    """The largest ``|a - b| / max(|a|, |b|)`` over paired values (NaN on one side only: inf)."""
    worst = 0.0
    for x, y in zip(a, b):
        if x == y or (math.isnan(x) and math.isnan(y)):
            continue
        if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
            return math.inf
        scale = max(abs(x), abs(y))
        worst = max(worst, abs(x - y) / scale)
    return worst


def numeric_findings(
    baseline: Optional[List[NumericResult]], candidate: Optional[List[NumericResult]]
) -> List[Finding]:
    """Findings (category ``numerics``, key = probe name) for probes whose outputs differ.

    Identical digests: no finding. Different bytes: the largest relative difference over the
    recorded sample, an ``error`` when it exceeds the probe's rtol, else ``info`` (another code
    path, within tolerance). A probe that ran on one side only, or failed on one: ``warning``.
    Numerics recorded on one side only (or neither): nothing to compare, ``[]``.
    """
    if baseline is None or candidate is None:
        return []
    base, cand = _by_name(baseline), _by_name(candidate)
    findings = []
    for name in _names(baseline, candidate):
        finding = _numeric_one(name, base.get(name), cand.get(name))
        if finding is not None:
            findings.append(finding)
    return findings


def _short(r: Optional[NumericResult]) -> Optional[str]:
    if r is None:
        return None
    if r.status != "ok":
        return r.status
    return (r.sha256 or "")[:12]


def _numeric_one(
    name: str, b: Optional[NumericResult], c: Optional[NumericResult]
) -> Optional[Finding]:
    def finding(change: str, severity: str, why: str) -> Finding:
        return Finding(
            category="numerics",
            key=name,
            baseline=_short(b),
            candidate=_short(c),
            change=change,  # type: ignore[arg-type]
            severity=severity,  # type: ignore[arg-type]
            why=why,
        )

    if b is None or c is None:
        assert b is not None or c is not None
        present = b or c
        assert present is not None
        if present.status == "skipped":
            return None  # a probe that could not run on the one side it exists on says nothing
        change = "added" if b is None else "removed"
        side = "candidate" if b is None else "baseline"
        return finding(
            change, "warning", f"probe {name} ran only on the {side}; register it on both sides"
        )
    if b.status != "ok" or c.status != "ok":
        if b.status == c.status:
            return None  # skipped (or failed) on both: nothing to compare
        bad, side = (b, "baseline") if b.status != "ok" else (c, "candidate")
        return finding(
            "changed", "warning", f"probe {name} {bad.status} on the {side}: {bad.reason}"
        )
    if b.sha256 == c.sha256:
        return None
    rtol = max(b.rtol, c.rtol)
    if b.dtype != c.dtype or b.shape != c.shape:
        return finding(
            "changed",
            "error",
            f"probe {name} output changed from {b.dtype}{b.shape} to {c.dtype}{c.shape}; "
            "the computation itself differs",
        )
    rel = relative_difference(b.values, c.values)
    if rel == 0.0:
        return finding(
            "changed",
            "info",
            f"probe {name}: output bits differ outside the {len(b.values)} sampled values "
            f"(those match; rtol {rtol:g}): another code path, e.g. SIMD kernel or BLAS",
        )
    if rel > rtol:
        return finding(
            "changed",
            "error",
            f"probe {name}: largest relative difference {rel:.3g} exceeds rtol {rtol:g}; results "
            "differ beyond tolerance: align the library build, BLAS and CPU code path",
        )
    return finding(
        "changed",
        "info",
        f"probe {name}: largest relative difference {rel:.3g} (within rtol {rtol:g}): another "
        "code path (SIMD kernel, BLAS, build), same results within tolerance",
    )
