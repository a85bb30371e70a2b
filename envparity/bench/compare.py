"""Compare two environments' benchmark runs and numeric probe results (called by ``diff``)."""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

from ..model import BenchmarkComparison, BenchmarkResult, BenchmarkRun
from .estimators import median, seed_for
from .spells import Rounds, spell_rounds
from .stats import decide, decide_memory, decide_paired
from .suite import CUDA_TIMED, PAIRED_SUFFIX


def _by_name(items: Sequence[BenchmarkResult]) -> Dict[str, BenchmarkResult]:
    return {item.name: item for item in items}


def _names(a: Sequence[BenchmarkResult], b: Sequence[BenchmarkResult]) -> List[str]:
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


def round_spells(
    baseline: Mapping[str, Rounds], candidate: Mapping[str, Rounds]
) -> Dict[int, float]:
    """The rounds a slow spell made unequal (:func:`spell_rounds`), judged from the benchmarks
    timed on the CPU (a spell of the host does not show in CUDA events): one definition for the
    comparison and for the adaptive rounds that decide whether to go on."""
    return spell_rounds(
        *(
            {n: r for n, r in side.items() if affected_by_contention(n)}
            for side in (baseline, candidate)
        )
    )


def left_out_for(name: str, spells: Mapping[int, float]) -> Optional[Mapping[int, float]]:
    """The spell rounds to leave out of ``name``'s paired comparison: none for a GPU-timed one."""
    return spells if affected_by_contention(name) else None


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
    fastest sample of its fastest worker process (see :mod:`.stats`); for the two runs of one
    ``bench --against``, the center of the per-round ratios. A side whose conditions show
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
    spells: Dict[int, float] = {}
    if paired:
        spells = round_spells(
            {n: r.samples for n, r in base.items() if r.status == "ok"},
            {n: r.samples for n, r in cand.items() if r.status == "ok"},
        )
    out = []
    for name in _names(list(base.values()), list(cand.values())):
        b, c = base.get(name), cand.get(name)
        held = [] if paired or not affected_by_contention(name) else contended
        one = _compare_one(name, b, c, min_effect, confidence, paired, held, spells)
        update: Dict[str, object] = dict(lines)
        if paired and contended and affected_by_contention(name) and one.ratio is not None:
            # Load hits both sides of a round alike, so it cannot make a difference here; it
            # does widen the interval: the verdict says so, and how far it could still see.
            update["why"] = f"{one.why}; {_contention_note(baseline, candidate)}"
        out.append(one.model_copy(update=update))
    return out


def _contention_note(*runs: Optional[BenchmarkRun]) -> str:
    shares = [
        r.conditions.contention
        for r in runs
        if r is not None and r.conditions is not None and r.conditions.contention is not None
    ]
    held = f" (other processes held {max(shares):.0%} of the CPUs)" if shares else ""
    return (
        f"ran under contention{held}: both sides alike, so no difference comes from it, but "
        "the interval is wider and smaller effects go unseen; rerun on a quiet machine for "
        "full power"
    )


def _compare_one(
    name: str,
    b: Optional[BenchmarkResult],
    c: Optional[BenchmarkResult],
    min_effect: float,
    confidence: float,
    paired: bool,
    contended: List[str],
    spells: Optional[Dict[int, float]] = None,
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
        v = decide_paired(
            b.samples,
            c.samples,
            min_effect=min_effect,
            confidence=confidence,
            left_out=left_out_for(name, spells or {}),
        )
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
        detectable_effect=None if v.detectable is None else round(v.detectable, 4),
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
