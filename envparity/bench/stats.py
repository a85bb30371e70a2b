"""Statistics for benchmark comparisons, in pure Python (NumPy is optional).

The noise that matters is between processes, so the unit of replication is the worker process:

- each process is summed up by its median sample; each side by its fastest process
  (``LOCATION`` = 0, the minimum of the process medians); the estimate is the candidate's over the
  baseline's. Timing noise on a shared machine is one-sided: a neighbour only ever slows a
  process down, never speeds it up, so the fastest process is the one nearest the machine's own
  speed (the argument of Chen and Revels, "Robust benchmarking in noisy environments", 2016). On
  a 2-CPU VM a neighbour can hold one CPU for a second or more, and a two-thread GEMM then runs at
  one-thread speed in every process of that spell, half of a quick run or more: a middle or a
  lower quartile is then lost, the fastest process is not. One lucky process does not decide
  anything alone: the bootstrap below draws the processes with replacement, so a fast time seen
  in one process of twelve leaves a wide interval, and only a fast time that several processes
  reproduce gives a narrow one. Replayed over 120 recorded quick-suite runs of a noisy 2-CPU VM
  (scripts/bench_replay.py, 12 processes of 2 rounds), the fastest process called one-thread GEMM
  slower in 30 of 30 pairs, the lower quartile in 23 and the median in 13, with A/A calls no more
  frequent (3 of 472 against 4 and 7); over 120 more runs recorded later, 30, 28 and 28 of 30,
  with 6, 8 and 8 A/A calls. What no statistic of one run can catch is a whole run shifted: a
  neighbour busy for all of its 2.5 s. Every A/A call in those replays was one;
- its confidence interval is a two-level bootstrap: resample processes with replacement, then,
  within each drawn process, its samples (through a precomputed set of resampled medians). The
  second level counts within-process noise twice (it is already in the spread of the process
  medians), which makes the interval conservative rather than too narrow;
- a Mann-Whitney rank test on the per-process medians backs the interval;
- a difference is called only when the whole interval lies outside the minimum effect (default
  5%) and the rank test agrees; an interval too wide to say "same" is ``unstable``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

N_BOOT = 2000
# Where among the process medians a side is read: 0, the fastest process (see above).
LOCATION = 0.0
# "same" needs the interval to rule out effects this many times the minimum effect (15% at 5%);
# an interval reaching further is "unstable": the processes disagree too much to decide.
UNSTABLE_FACTOR = 3.0
_INNER = 64  # resampled medians kept per process


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("median of nothing")
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def location(process_meds: Sequence[float]) -> float:
    """A side's time: the ``LOCATION`` quantile of its process medians (0: the fastest)."""
    if not process_meds:
        raise ValueError("location of nothing")
    return _quantile(sorted(process_meds), LOCATION)


def process_medians(samples: Sequence[Sequence[float]]) -> List[float]:
    """Each process's median sample (processes without samples are left out)."""
    return [median(s) for s in samples if s]


def _inner_medians(samples: Sequence[Sequence[float]], rng: random.Random) -> List[List[float]]:
    out = []
    for s in samples:
        if not s:
            continue
        k = len(s)
        out.append([median(rng.choices(s, k=k)) for _ in range(_INNER)])
    return out


def bootstrap_ratio(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    *,
    confidence: float = 0.99,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> Tuple[float, float, float]:
    """``(ratio, low, high)``: candidate over baseline :func:`location` of the process medians,
    with its two-level bootstrap percentile interval. Deterministic for a given ``seed``."""
    ratio = location(process_medians(candidate)) / location(process_medians(baseline))
    rng = random.Random(seed)
    base = _inner_medians(baseline, rng)
    cand = _inner_medians(candidate, rng)
    nb, nc = len(base), len(cand)
    ratios = []
    for _ in range(n_boot):
        b = location([rng.choice(p) for p in rng.choices(base, k=nb)])
        c = location([rng.choice(p) for p in rng.choices(cand, k=nc)])
        ratios.append(c / b)
    ratios.sort()
    alpha = 1.0 - confidence
    return ratio, _quantile(ratios, alpha / 2), _quantile(ratios, 1 - alpha / 2)


def _u_distribution(m: int, n: int) -> List[int]:
    """Counts of each value of the Mann-Whitney U for sizes m, n without ties (exact)."""
    # f[i][j][u]: arrangements of i and j items with statistic u; built row by row.
    prev: List[List[int]] = [[1] for _ in range(n + 1)]  # i = 0: U = 0 only
    for i in range(1, m + 1):
        cur: List[List[int]] = [[1]]  # j = 0
        for j in range(1, n + 1):
            # The largest element belongs to the first sample (adds j) or the second (adds 0).
            a = prev[j]
            b = cur[j - 1]
            size = i * j + 1
            row = [0] * size
            for u, count in enumerate(a):
                row[u + j] += count
            for u, count in enumerate(b):
                row[u] += count
            cur.append(row)
        prev = cur
    return prev[n]


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (exact without ties, else normal)."""
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return 1.0
    pooled = sorted([(v, 0) for v in x] + [(v, 1) for v in y])
    ranks: Dict[int, float] = {}
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        t = j - i + 1
        if t > 1:
            ties += t**3 - t
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2.0 + 1.0
        i = j + 1
    r1 = sum(ranks[k] for k, (_, side) in enumerate(pooled) if side == 0)
    u = r1 - m * (m + 1) / 2.0
    if not ties and m + n <= 40:
        dist = _u_distribution(m, n)
        total = sum(dist)
        lo = min(u, m * n - u)
        tail = sum(dist[: int(math.floor(lo)) + 1]) / total
        return min(1.0, 2.0 * tail)
    mean = m * n / 2.0
    var = m * n / 12.0 * ((m + n + 1) - ties / ((m + n) * (m + n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u - mean) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing two benchmarks' samples."""

    verdict: str  # faster | slower | same | unstable
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    baseline_median: float
    candidate_median: float
    why: str


def decide(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    *,
    min_effect: float = 0.05,
    confidence: float = 0.99,
    seed: int = 0,
) -> Verdict:
    """Compare two benchmarks' per-process samples (seconds): faster, slower, same or unstable.

    Called faster/slower only when the whole ``confidence`` interval of the ratio lies beyond
    ``1 + min_effect`` (or its inverse), the rank test on process medians is significant at the
    same level, and the interval is narrower than the effect.
    ``unstable`` when it is not called and the interval reaches beyond ``UNSTABLE_FACTOR`` times
    the minimum effect (0.87-1.15 at 5%): the processes disagree too much to decide.
    """
    ratio, low, high = bootstrap_ratio(baseline, candidate, confidence=confidence, seed=seed)
    bm, cm = process_medians(baseline), process_medians(candidate)
    p = mann_whitney_p(bm, cm)
    alpha = 1.0 - confidence
    up, down = 1.0 + min_effect, 1.0 / (1.0 + min_effect)
    ci = f"{confidence:.0%} CI {low:.2f}-{high:.2f}"
    reach = 1.0 + UNSTABLE_FACTOR * min_effect
    wide = high > reach or low < 1.0 / reach
    # Precise: the interval is narrower than the effect it claims (on the log scale). On a shared
    # machine a neighbour that runs through a whole suite run shifts all its processes at once;
    # what gives that away is an interval as wide as the shift (A/A, measured here).
    precise = math.log(high / low) < abs(math.log(ratio)) if low > 0 and ratio > 0 else False
    if low > up and p < alpha and precise:
        verdict, why = "slower", f"{ratio:.2f}x the baseline's time ({ci}, p={p:.3g})"
    elif high < down and p < alpha and precise:
        verdict, why = "faster", f"{1 / ratio:.2f}x faster ({ci}, p={p:.3g})"
    elif wide or low > up or high < down:
        spread = max(_spread(bm), _spread(cm))
        verdict = "unstable"
        why = (
            f"ratio {ratio:.2f} but processes disagree ({ci}, process medians spread "
            f"{spread:.0%}, p={p:.3g}); rerun on a quieter machine or with --suite full"
        )
    else:
        verdict = "same"
        why = f"ratio {ratio:.2f} ({ci}): no difference beyond {min_effect:.0%}"
    return Verdict(verdict, ratio, low, high, p, location(bm), location(cm), why)


def _spread(values: Sequence[float]) -> float:
    """Relative spread of process medians: slowest over fastest, minus one."""
    return max(values) / min(values) - 1.0 if values and min(values) > 0 else 0.0


def seed_for(name: str) -> int:
    """A stable bootstrap seed per benchmark name, so a report is the same every time."""
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) & 0xFFFFFFFF


def summarize(samples: Sequence[Sequence[float]]) -> Optional[Tuple[float, float]]:
    """``(median of process medians, spread of process medians)``, or None without samples."""
    meds = process_medians(samples)
    if not meds:
        return None
    return median(meds), _spread(meds)
