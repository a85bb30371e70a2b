"""The symptom a bisect chases, and how one trial's measurements are judged against the baseline.

This is the one adapter between bisect and the comparison code: today a probe's output is
compared as ``envparity diff`` compares numerics (digest, then the largest relative difference
over the recorded sample, within the probe's rtol) and a benchmark as ``envparity bench
--compare`` does (ratio of the fastest processes with a bootstrap interval). When the parity
engine stores outputs whole and compares them element-wise, :func:`compare_probe` is the function
to switch.
"""

from __future__ import annotations

import math
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


def _relative(a: List[float], b: List[float]) -> float:
    from ..bench.compare import relative_difference

    return relative_difference(a, b)


def compare_probe(base: Dict[str, Any], trial: Dict[str, Any]) -> Tuple[bool, str]:
    """``(match, evidence)`` for one probe's output against the baseline's."""
    if trial.get("status") != "ok" or base.get("status", "ok") != "ok":
        if trial.get("status") == base.get("status", "ok"):
            return True, f"{trial.get('status')} on both sides"
        side = "candidate" if trial.get("status") != "ok" else "baseline"
        reason = trial.get("reason") if side == "candidate" else base.get("reason")
        return False, f"{trial.get('status') if side == 'candidate' else base.get('status')} " \
            f"on the {side}: {reason}"
    if base.get("sha256") and base.get("sha256") == trial.get("sha256"):
        return True, "identical output"
    bshape, tshape = list(base.get("shape") or []), list(trial.get("shape") or [])
    if base.get("dtype") != trial.get("dtype") or bshape != tshape:
        return False, (
            f"output {base.get('dtype')}{bshape} in the baseline, "
            f"{trial.get('dtype')}{tshape} here"
        )
    given = base.get("rtol")
    rtol = 1e-6 if given is None else float(given)
    atol = float(base.get("atol") or 0.0)
    bvals, tvals = list(base.get("values") or []), list(trial.get("values") or [])
    rel = _relative(bvals, tvals)
    # NumPy isclose semantics, the baseline's value as the reference: |a - b| <= atol + rtol*|b|.
    off = [
        i for i, (b, t) in enumerate(zip(bvals, tvals))
        if not (b == t or (math.isnan(b) and math.isnan(t)) or abs(t - b) <= atol + rtol * abs(b))
    ]
    if off:
        worst = max(off, key=lambda i: _relative([bvals[i]], [tvals[i]]))
        at = f" (sampled value {worst}: {bvals[worst]!r} vs {tvals[worst]!r})"
        tol = f"rtol {rtol:g}" + (f", atol {atol:g}" if atol else "")
        return False, (
            f"{len(off)} of {len(bvals)} sampled values differ beyond {tol}; largest relative "
            f"difference {_fmt(rel)}{at}"
        )
    if rel == 0.0:
        return True, f"sampled values identical (rtol {rtol:g})"
    return True, f"largest relative difference {_fmt(rel)} within rtol {rtol:g}"


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3g}"


def compare_bench(
    name: str, base: List[List[float]], cand: List[List[float]]
) -> Tuple[str, Optional[float], str]:
    """``(verdict, ratio, evidence)``: the candidate's time against the baseline's."""
    from ..bench.stats import decide, seed_for

    if len(base) < 2 or len(cand) < 2:
        return "failed", None, "too few worker processes finished to compare"
    v = decide(base, cand, seed=seed_for(name))
    return v.verdict, v.ratio, f"{v.verdict}: {v.why}"


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
    verdict, ratio, detail = compare_bench(symptom.name, base or [], got.get("candidate") or [])
    if verdict in ("slower", "faster"):
        same_way = not symptom.direction or verdict == symptom.direction
        return Judgement(PRESENT if same_way else GONE, detail, ratio)
    if verdict == "same":
        return Judgement(GONE, detail, ratio)
    return Judgement(UNRESOLVED, detail, ratio)


def numeric_results(outputs: Dict[str, Dict[str, Any]]) -> List[Any]:
    """A trial child's probe outputs as :class:`~envparity.model.NumericResult` (what a snapshot
    stores), keeping the fields the model knows."""
    from ..model import NumericResult

    fields = set(NumericResult.model_fields)
    return [
        NumericResult(**{k: v for k, v in out.items() if k in fields}) for out in outputs.values()
    ]
