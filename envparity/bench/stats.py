"""Statistics for benchmark comparisons, in pure Python (NumPy is optional).

The noise that matters is between processes, so the unit of replication is the worker process:

- each process is summed up by its fastest sample, and each side by its fastest process
  (``LOCATION`` = 0, the minimum over processes); the estimate is the candidate's over the
  baseline's. Timing noise on a shared machine is one-sided: a neighbour, an interrupt or a
  slow spell of the host only ever slows a sample down, never speeds it up, so the fastest
  sample is the one nearest the machine's own speed (the argument of Chen and Revels, "Robust
  benchmarking in noisy environments", 2016). On this project's 2-CPU VM, quiet, consecutive
  1 ms samples of a pure-Python loop vary by 3-6% (sd) and longer samples do not vary less: the
  noise is the machine's speed drifting over tens of milliseconds, so a process's median of a
  few samples is a draw from that drift, while its fastest sample of five is close to the
  machine's best. Replayed on 20 + 20 recorded quick runs (12 processes of 6 rounds), a 10%
  slower user benchmark was called slower in 4 of 20 with each process's median of 5 samples
  and in 20 of 20 with its fastest, with no A/A call either way (0 of 60). On a 2-CPU VM a
  neighbour can also hold one CPU for a second or more, and a two-thread GEMM then runs at
  one-thread speed in every process of that spell, half of a quick run or more: the fastest
  process is then the one that escaped it. One lucky process does not decide anything alone:
  the bootstrap below draws the processes with replacement, so a fast time seen in one process
  of twelve leaves a wide interval, and only a fast time that several processes reproduce gives
  a narrow one. What no statistic of one run can catch is a whole run shifted: a neighbour busy
  for all of its 2.5 s; the contention rule (:func:`_classify`) is there for that;
- its confidence interval is a bootstrap over processes (the unit of replication: within-process
  noise is already in the spread of the processes' fastest samples);
- the significance test is a permutation test of the same statistic as the estimate (the ratio
  of the fastest processes), not a rank test over every process, which the estimate
  deliberately sets aside and which could disagree with it;
- a difference is called only when the whole interval lies outside the minimum effect (default
  5%) and the interval is narrower than the effect; ``same`` only when the whole interval lies
  inside it (equivalence); between the two, ``inconclusive`` with the plausible range; an
  interval that reaches past three times the minimum effect is ``unstable``;
- :func:`decide_paired` compares interleaved runs (``bench --against``) round by round: the
  Hodges-Lehmann center of the per-round log ratios of the workers' fastest samples, with the
  exact signed-rank interval and p-value (the same statistic again);
- :func:`decide_memory` compares peak allocations per process by their ranges.

The estimators live in :mod:`envparity.bench.estimators`; this module holds the verdicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from .estimators import N_BOOT, bootstrap, location, process_times, relative_spread
from .estimators import mann_whitney_p as mann_whitney_p
from .estimators import median as median
from .estimators import process_medians as process_medians
from .estimators import seed_for as seed_for
from .estimators import signed_rank_interval as signed_rank_interval

# "same" needs the interval to rule out effects this many times the minimum effect (15% at 5%);
# an interval reaching further is "unstable": the processes disagree too much to decide.
UNSTABLE_FACTOR = 3.0


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing two benchmarks' samples."""

    verdict: str  # faster | slower | same | inconclusive | unstable
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    baseline_median: float
    candidate_median: float
    why: str
    held_by: List[str] = field(default_factory=list)  # contended sides that held a call back
    # The smallest effect this comparison could have called (0.25: 25%), see :func:`detectable`.
    detectable: Optional[float] = None


def detectable(
    low: float, high: float, min_effect: float, *, precise: bool = True
) -> Optional[float]:
    """The smallest effect (a fraction: 0.25 is 25% slower, or 1.25x faster) that a comparison
    with an interval as wide as ``low``-``high`` would have called.

    A call needs the whole interval beyond ``1 + min_effect`` and, with ``precise`` (unpaired
    runs), the interval narrower than the effect it claims (log scale). An interval of half-width
    ``h`` around a true ratio ``r`` does both when ``log r > max(log(1 + min_effect) + h, 2 h)``
    (the first alone without ``precise``): that ``r`` less one is returned. An ``inconclusive``
    thereby says how blind it was, and a ``same`` how small a difference it rules out only down
    to ``min_effect``. None without an interval.
    """
    if not (low > 0 and high >= low) or math.isinf(high):
        return None
    h = math.log(high / low) / 2.0
    need = math.log1p(min_effect) + h
    return math.exp(max(need, 2.0 * h) if precise else need) - 1.0


def _range(low: float, high: float) -> str:
    return f"{low:.2f}x-{high:.2f}x"


def _raw_verdict(
    ratio: float,
    low: float,
    high: float,
    p: float,
    *,
    min_effect: float,
    confidence: float,
    precise_needed: bool,
    disagree: str,
    p_name: str,
    suggest: str,
) -> Tuple[str, str]:
    """The verdict and its why, from an estimate, its interval and its p-value."""
    alpha = 1.0 - confidence
    up, down = 1.0 + min_effect, 1.0 / (1.0 + min_effect)
    ci = f"{confidence:.0%} CI {low:.2f}-{high:.2f}, {p_name}={p:.3g}"
    reach = 1.0 + UNSTABLE_FACTOR * min_effect
    beyond = low > up or high < down
    # Precise: the interval is narrower than the effect it claims (on the log scale). On a shared
    # machine a neighbour that runs through a whole suite run shifts all its processes at once;
    # what gives that away is an interval as wide as the shift (A/A, measured here).
    precise = not precise_needed or (
        math.log(high / low) < abs(math.log(ratio)) if low > 0 and ratio > 0 else False
    )
    if beyond and p < alpha and precise:
        if low > up:
            return "slower", f"{ratio:.2f}x the baseline's time ({ci})"
        return "faster", f"{1 / ratio:.2f}x faster ({ci})"
    if down <= low and high <= up:
        return "same", f"ratio {ratio:.2f} ({ci}): no difference beyond {min_effect:.0%}"
    if high > reach or low < 1.0 / reach or beyond:
        return "unstable", (
            f"ratio {ratio:.2f} but {disagree} ({ci}); the plausible range "
            f"{_range(low, high)} is too wide to decide: {suggest}"
        )
    what = (
        f"a difference under {min_effect:.0%} cannot be ruled out"
        if low > 1.0 or high < 1.0
        else f"neither a difference over {min_effect:.0%} nor none can be ruled out"
    )
    return "inconclusive", (
        f"ratio {ratio:.2f}, plausible range {_range(low, high)} ({ci}): {what}; to narrow it: "
        f"{suggest}"
    )


def _classify(
    ratio: float,
    low: float,
    high: float,
    p: float,
    *,
    contended: Sequence[str],
    **kw: Any,
) -> Tuple[str, str, List[str]]:
    """:func:`_raw_verdict`, then held back by contention: ``(verdict, why, sides held)``.

    Contention only ever slows the side it hits, so it pushes the ratio one way: a contended
    baseline towards "faster", a contended candidate towards "slower". A call in that direction
    is held back; so is "same" (contention can hide a difference as well as make one); a call
    against the push stands, since the true difference is then larger still.
    """
    verdict, why = _raw_verdict(ratio, low, high, p, **kw)
    if not contended:
        return verdict, why, []
    if verdict == "slower":
        held = [s for s in contended if s == "candidate"]
    elif verdict == "faster":
        held = [s for s in contended if s == "baseline"]
    else:
        held = list(contended)
    if not held:
        return verdict, why, []
    sides = " and the ".join(held)
    confidence = kw["confidence"]
    return (
        "unstable",
        (
            f"ratio {ratio:.2f} ({confidence:.0%} CI {low:.2f}-{high:.2f}) but the {sides} ran "
            "under contention (other processes held its CPUs), which alone can make a difference "
            "this way: no call; rerun on a quiet machine, or compare both at once with "
            "`envparity bench --against`"
        ),
        held,
    )


def decide(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    *,
    min_effect: float = 0.05,
    confidence: float = 0.99,
    seed: int = 0,
    contended: Sequence[str] = (),
) -> Verdict:
    """Compare two benchmarks' per-process samples (seconds).

    ``slower``/``faster`` only when the whole ``confidence`` interval of the ratio lies beyond
    ``1 + min_effect`` (or its inverse), the bootstrap p-value of the same statistic is below
    ``1 - confidence``, and the interval is narrower than the effect. ``same`` only when the whole
    interval lies within the minimum effect. ``unstable`` when the interval reaches beyond
    ``UNSTABLE_FACTOR`` times the minimum effect (0.87-1.15 at 5%), or ``contended`` names a
    side whose contention could have made the difference (see :func:`_classify`); otherwise
    ``inconclusive``, with the plausible range.
    """
    ratio, low, high, p = bootstrap(baseline, candidate, confidence, N_BOOT, seed)
    bm, cm = process_times(baseline), process_times(candidate)
    spread = max(relative_spread(bm), relative_spread(cm))
    verdict, why, held = _classify(
        ratio,
        low,
        high,
        p,
        min_effect=min_effect,
        confidence=confidence,
        precise_needed=True,
        contended=contended,
        disagree=f"processes disagree (their fastest samples spread {spread:.0%})",
        p_name="p",
        suggest="rerun on a quieter machine, with --suite full, or compare both environments "
        "at once with `envparity bench --against` (paired rounds)",
    )
    reach = detectable(low, high, min_effect)
    return Verdict(verdict, ratio, low, high, p, location(bm), location(cm), why, held, reach)



def decide_paired(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    *,
    min_effect: float = 0.05,
    confidence: float = 0.99,
    left_out: Optional[Mapping[int, float]] = None,
) -> Verdict:
    """Compare interleaved runs round by round: the i-th process of one side with the i-th of
    the other (they ran back to back, under the same load and frequency). ``left_out``: the
    rounds a slow spell of the machine made unequal (:func:`envparity.bench.spells.spell_rounds`),
    with their speed index; the verdict says how many were left out.

    Each round's ratio is of the two workers' fastest samples: a preemption hits one sample of
    one worker, not both sides of a round alike, and it only ever slows a sample down (under a
    load of 30 on two CPUs, samples of one worker were seen 25x apart). The two sides' noise is
    alike, so a round's log ratio is the effect plus a difference of two like noises: symmetric.
    That is what the signed-rank test needs: the estimate is the Hodges-Lehmann center of the
    log ratios, the interval and the p-value the exact signed-rank ones, all one statistic
    (the sign test's interval, its distribution-free alternative, is the whole range of the
    ratios up to 11 rounds at 99%). Contention, which hits both sides of a round alike, does not
    hold a call back here. Fewer rounds than a 99% interval needs (8) leave it ``inconclusive``.

    Unlike unpaired runs, a call does not also need an interval narrower than the effect it
    claims. That rule is against a neighbour that slows every process of one stored run (an
    interval as wide as the shift gives it away); in paired rounds nothing can slow one side's
    rounds only, and what a slow spell of the machine does to the round it begins or ends in is an
    outlier either way, which the signed-rank interval resists. An interval wholly beyond the
    minimum effect with a far end that reaches further (rounds that disagree on how much, not on
    which way) is a call: on the quiet VM three in ten +10% comparisons were that, e.g. 99% CI
    1.055-1.177, and were reported ``unstable`` while the rule applied here.
    """
    skip = left_out or {}
    pairs = [
        (b, c) for i, (b, c) in enumerate(zip(baseline, candidate)) if b and c and i not in skip
    ]
    logs = [math.log(min(c) / min(b)) for b, c in pairs]
    if not logs:
        raise ValueError("no paired rounds")
    center, lo, hi, p = signed_rank_interval(logs, confidence)
    ratio, low, high = math.exp(center), math.exp(lo), math.exp(hi)
    verdict, why, _ = _classify(
        ratio,
        low,
        high,
        p,
        min_effect=min_effect,
        confidence=confidence,
        precise_needed=False,
        contended=(),
        disagree="rounds disagree",
        p_name="signed-rank p",
        suggest="rerun on a quieter machine or with --suite full (more rounds)",
    )
    smallest_p = 2.0 / 2 ** len(logs)
    if smallest_p > 1.0 - confidence:
        verdict = "inconclusive"
        why = (
            f"ratio {ratio:.2f} over {len(logs)} rounds, range {_range(low, high)}: too few "
            f"rounds for a {confidence:.0%} interval; run more (--suite full)"
        )
    why += f"; paired over {len(logs)} rounds"
    if skip:
        from .spells import spell_note

        why += f" ({spell_note(skip)})"
    bm = location(process_times([b for b, _ in pairs]))
    cm = location(process_times([c for _, c in pairs]))
    reach = (
        detectable(low, high, min_effect, precise=False)
        if smallest_p <= 1.0 - confidence
        else None
    )
    return Verdict(verdict, ratio, low, high, p, bm, cm, why, [], reach)


@dataclass(frozen=True)
class MemoryVerdict:
    """The outcome of comparing two benchmarks' peak allocations."""

    verdict: str  # more | less | same | inconclusive
    ratio: float
    baseline: int
    candidate: int
    why: str


# Differences smaller than this are "same" whatever their ratio: a few hundred bytes of a
# benchmark that allocates next to nothing (GEMM into a preallocated output) are bookkeeping.
MEMORY_FLOOR_BYTES = 4096
MEMORY_MIN_EFFECT = 0.10


def decide_memory(
    baseline: Sequence[int], candidate: Sequence[int], *, min_effect: float = MEMORY_MIN_EFFECT
) -> Optional[MemoryVerdict]:
    """Compare per-process peak allocations (bytes), or None without values on a side.

    Peaks vary little between processes, but they do vary (lazy caches, hash seeds): the
    comparison is between the ranges of the two sides, not their medians. A benchmark under the
    floor is measured in one process a side only (see ``workers._peak_names``). ``more`` when every
    candidate process allocated more than every baseline one by over ``min_effect`` and
    :data:`MEMORY_FLOOR_BYTES`; ``less`` the other way; ``same`` when the ranges' ratio lies
    within ``min_effect`` or all values lie within the floor of each other; else inconclusive.
    """
    b = [int(x) for x in baseline if x is not None]
    c = [int(x) for x in candidate if x is not None]
    if not b or not c:
        return None
    bm, cm = int(median(b)), int(median(c))
    ratio = cm / bm if bm > 0 else (1.0 if cm == 0 else math.inf)
    up, down = 1.0 + min_effect, 1.0 / (1.0 + min_effect)
    low = min(c) / max(b) if max(b) > 0 else math.inf
    high = max(c) / min(b) if min(b) > 0 else math.inf
    sizes = (
        f"{_bytes(bm)} -> {_bytes(cm)}, per process {_bytes(min(b))}-{_bytes(max(b))} and "
        f"{_bytes(min(c))}-{_bytes(max(c))}"
    )
    if max(max(b), max(c)) - min(min(b), min(c)) < MEMORY_FLOOR_BYTES:
        return MemoryVerdict("same", ratio, bm, cm, f"peak allocations within a few kB ({sizes})")
    if low > up and min(c) - max(b) >= MEMORY_FLOOR_BYTES:
        return MemoryVerdict("more", ratio, bm, cm, f"{ratio:.2f}x the baseline's peak ({sizes})")
    if high < down and min(b) - max(c) >= MEMORY_FLOOR_BYTES:
        return MemoryVerdict("less", ratio, bm, cm, f"{ratio:.2f}x the baseline's peak ({sizes})")
    if down <= low and high <= up:
        return MemoryVerdict(
            "same", ratio, bm, cm, f"no difference beyond {min_effect:.0%} ({sizes})"
        )
    return MemoryVerdict(
        "inconclusive",
        ratio,
        bm,
        cm,
        f"ratio {ratio:.2f} but the processes' peaks overlap or vary beyond {min_effect:.0%} "
        f"({sizes})",
    )


def _bytes(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"

