"""The symptom a bisect chases, and how one trial's measurements are judged against the baseline.

This is the one adapter between bisect and the comparison code: a probe's output is compared as
``envparity parity`` compares it (whole outputs, element-wise, the baseline's tolerances) and a
benchmark as ``envparity bench --compare`` does (ratio of the fastest processes with a bootstrap
interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .ddmin import GONE, PRESENT, UNRESOLVED

PROBE = "probe"
BENCHMARK = "benchmark"


@dataclass
class Judgement:
    """One symptom in one trial: gone, present or unresolved, and the evidence."""

    outcome: str
    detail: str
    ratio: Optional[float] = None
    ci: Optional[Tuple[float, float]] = None  # benchmark: the ratio's interval


@dataclass
class Symptom:
    """A probe whose output differs from the baseline's, or a benchmark whose time does."""

    name: str
    kind: str
    baseline: Any = None  # probe: the stored output (dict); benchmark: stored samples or None
    before: Optional[Judgement] = None  # in the candidate as it is
    direction: str = ""  # benchmark: the verdict seen in the candidate (slower/faster)
    extra: Dict[str, Any] = field(default_factory=dict)


def baseline_outputs(numerics: Optional[List[Any]]) -> Dict[str, Dict[str, Any]]:
    """The baseline's stored probe outputs by name, as plain dicts."""
    out: Dict[str, Dict[str, Any]] = {}
    for result in numerics or []:
        data = result.model_dump() if hasattr(result, "model_dump") else dict(result)
        out[data["name"]] = data
    return out


def baseline_samples(benchmarks: Any) -> Dict[str, List[List[float]]]:
    """The baseline's stored benchmark samples (per process) by name, ok results only."""
    out: Dict[str, List[List[float]]] = {}
    for result in getattr(benchmarks, "results", None) or []:
        if result.status == "ok" and any(result.samples):
            out[result.name] = [list(s) for s in result.samples if s]
    return out


_VERDICT_TEXT = {"identical": "identical output"}


def compare_probe(base: Dict[str, Any], trial: Dict[str, Any]) -> Tuple[bool, str]:
    """``(match, evidence)`` for one probe's output against the baseline's: the comparison
    ``envparity parity`` makes (whole outputs, element by element, the baseline's tolerances);
    the symptom is there when that comparison is an error."""
    from ..parity.compare import compare_probe as parity_compare

    name = str(base.get("name") or trial.get("name") or "probe")
    pc = parity_compare(name, base, trial)
    evidence = pc.report() if pc.columns else (pc.why or _VERDICT_TEXT.get(pc.verdict, pc.verdict))
    return pc.severity != "error", evidence


def compare_bench(
    name: str, base: List[List[float]], cand: List[List[float]]
) -> Tuple[str, Optional[float], str, Optional[Tuple[float, float]]]:
    """``(verdict, ratio, evidence, interval)``: the candidate's time against the baseline's."""
    from ..bench.estimators import seed_for
    from ..bench.stats import decide

    if len(base) < 2 or len(cand) < 2:
        return "failed", None, "too few worker processes finished to compare", None
    v = decide(base, cand, seed=seed_for(name))
    return v.verdict, v.ratio, f"{v.verdict}: {v.why}", (v.ci_low, v.ci_high)


def _away_from(before: Optional[Judgement], ci: Optional[Tuple[float, float]]) -> bool:
    """The trial's ratio interval and the symptom's (as first measured) do not overlap, on the
    side of no difference: restoring moved the time back, though not provably to "same" (which
    needs the whole interval within the minimum effect, rare on a busy machine)."""
    if before is None or before.ci is None or ci is None:
        return False
    (b_low, b_high), (low, high) = before.ci, ci
    if b_low > 1.0:  # the symptom is a slowdown
        return high < b_low
    if b_high < 1.0:  # a speed-up
        return low > b_high
    return False


def judge(symptom: Symptom, answer: Dict[str, Any]) -> Judgement:
    """How ``symptom`` fares in one trial's ``answer`` (the child's JSON)."""
    if symptom.kind == PROBE:
        trial = (answer.get("probes") or {}).get(symptom.name)
        if trial is None:
            return Judgement(UNRESOLVED, "the probe did not run in this trial")
        match, detail = compare_probe(symptom.baseline, trial)
        if not match and trial.get("status") != "ok" and not symptom.extra.get("failed_before"):
            return Judgement(UNRESOLVED, detail)  # it failed here: says nothing either way
        return Judgement(GONE if match else PRESENT, detail)
    got = (answer.get("bench") or {}).get(symptom.name) or {}
    base = got.get("baseline") if answer.get("interleaved") else symptom.baseline
    verdict, ratio, detail, ci = compare_bench(
        symptom.name, base or [], got.get("candidate") or []
    )
    if verdict in ("slower", "faster"):
        same_way = not symptom.direction or verdict == symptom.direction
        return Judgement(PRESENT if same_way else GONE, detail, ratio, ci)
    if verdict == "unstable":
        # Contention during the trial: its interval says where the noise put it, not where the
        # time is. A variable nothing reads (TZ, MKL_CBWR for OpenBLAS) once looked needed this
        # way: an unstable trial is no evidence either way.
        return Judgement(UNRESOLVED, detail, ratio, ci)
    if verdict == "same" or _away_from(symptom.before, ci):
        return Judgement(GONE, detail, ratio, ci)
    return Judgement(UNRESOLVED, detail, ratio, ci)


def numeric_results(outputs: Dict[str, Dict[str, Any]]) -> List[Any]:
    """A trial child's probe outputs as :class:`~envparity.model.NumericResult` (what a snapshot
    stores), keeping the fields the model knows."""
    from ..model import NumericResult

    fields = set(NumericResult.model_fields)
    return [
        NumericResult(**{k: v for k, v in out.items() if k in fields}) for out in outputs.values()
    ]
