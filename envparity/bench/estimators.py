"""The estimators behind benchmark verdicts, in pure Python: a side's location over its
processes, the bootstrap interval and permutation p-value of the candidate/baseline ratio, the
Mann-Whitney U test, the exact signed-rank interval of paired rounds, and small summaries.

Why these and not others is told in :mod:`envparity.bench.stats`, which turns them into
verdicts.
"""

from __future__ import annotations

import functools
import math
import random
from typing import Dict, List, Optional, Sequence, Tuple

N_BOOT = 2000
# Where among its processes' times a side is read: 0, the fastest process (see stats.py).
LOCATION = 0.0


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


def location(times: Sequence[float]) -> float:
    """A side's time: the ``LOCATION`` quantile of its processes' times (0: the fastest)."""
    if not times:
        raise ValueError("location of nothing")
    return _quantile(sorted(times), LOCATION)


def process_medians(samples: Sequence[Sequence[float]]) -> List[float]:
    """Each process's median sample (processes without samples are left out)."""
    return [median(s) for s in samples if s]


def process_times(samples: Sequence[Sequence[float]]) -> List[float]:
    """Each process's fastest sample (processes without samples are left out): the time a
    comparison reads a process by (see the module docstring)."""
    return [min(s) for s in samples if s]


def bootstrap_ratio(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    *,
    confidence: float = 0.99,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> Tuple[float, float, float]:
    """``(ratio, low, high)``: candidate over baseline :func:`location` of the processes'
    fastest samples, with its bootstrap percentile interval. Deterministic for a given
    ``seed``."""
    ratio, low, high, _ = bootstrap(baseline, candidate, confidence, n_boot, seed)
    return ratio, low, high


def bootstrap(
    baseline: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    confidence: float,
    n_boot: int,
    seed: int,
) -> Tuple[float, float, float, float]:
    """``(ratio, low, high, p)``: the estimate, its bootstrap interval and the permutation
    p-value of the same statistic (see :func:`permutation_p`)."""
    base, cand = process_times(baseline), process_times(candidate)
    ratio = location(cand) / location(base)
    rng = random.Random(seed)
    nb, nc = len(base), len(cand)
    ratios = []
    for _ in range(n_boot):
        ratios.append(location(rng.choices(cand, k=nc)) / location(rng.choices(base, k=nb)))
    ratios.sort()
    alpha = 1.0 - confidence
    p = permutation_p(base, cand, seed=seed)
    return ratio, _quantile(ratios, alpha / 2), _quantile(ratios, 1 - alpha / 2), p


def permutation_p(
    baseline: Sequence[float], candidate: Sequence[float], *, n_perm: int = N_BOOT, seed: int = 0
) -> float:
    """Two-sided permutation p-value of the estimate's own statistic: the log ratio of the two
    sides' :func:`location` of the processes' times, against relabelings of the pooled
    processes.

    The bootstrap alone cannot test a fastest-process statistic: a resample's minimum is the
    sample's minimum two times in three, so its spread understates how much the fastest of a
    dozen processes moves between two runs of the same thing. Relabeling does not have that
    flaw: under "no difference" every split of the pooled processes is as likely as the one seen.
    """
    nb, nc = len(baseline), len(candidate)
    if nb == 0 or nc == 0:
        return 1.0
    observed = abs(math.log(location(candidate) / location(baseline)))
    pooled = list(baseline) + list(candidate)
    rng = random.Random(seed ^ 0x5EED)
    hits = 0
    for _ in range(n_perm):
        rng.shuffle(pooled)
        stat = abs(math.log(location(pooled[nb:]) / location(pooled[:nb])))
        if stat >= observed - 1e-12:
            hits += 1
    return (hits + 1) / (n_perm + 1)


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



def _binom_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(0, min(k, n) + 1)) / 2.0**n


@functools.cache
def _signed_rank_counts(n: int) -> Tuple[int, ...]:
    """Counts of each value of the Wilcoxon signed-rank statistic for n pairs (exact); cached,
    since the adaptive rounds of ``bench --against`` ask for the same n many times."""
    counts = [1]
    for rank in range(1, n + 1):
        grown = counts + [0] * rank
        for t, c in enumerate(counts):
            grown[t + rank] += c
        counts = grown
    return tuple(counts)


def signed_rank_interval(
    logs: Sequence[float], confidence: float
) -> Tuple[float, float, float, float]:
    """``(estimate, low, high, p)`` for the center of symmetric ``logs``: the Hodges-Lehmann
    estimate (median of the Walsh averages), the exact signed-rank interval (order statistics
    of the Walsh averages) and the exact two-sided signed-rank p-value against 0. All from the
    one statistic. With too few values for the confidence, the interval is the whole range of
    the Walsh averages and ``p`` says how far it is from the confidence."""
    n = len(logs)
    walsh = sorted((logs[i] + logs[j]) / 2.0 for i in range(n) for j in range(i, n))
    counts = _signed_rank_counts(n)
    total = float(sum(counts))
    alpha = 1.0 - confidence
    cum = 0.0
    k = 0  # the number of Walsh averages cut from each end
    for c in counts:
        if (cum + c) / total > alpha / 2:
            break
        cum += c
        k += 1
    low, high = walsh[min(k, len(walsh) - 1)], walsh[max(len(walsh) - 1 - k, 0)]
    ranked = sorted((abs(x), x > 0) for x in logs if x != 0)
    t_plus = sum(i + 1 for i, (_, positive) in enumerate(ranked) if positive)
    m = len(ranked)
    if m == 0:
        return median(walsh), low, high, 1.0
    dist = _signed_rank_counts(m)
    t = min(t_plus, m * (m + 1) // 2 - t_plus)
    p = min(1.0, 2.0 * sum(dist[: t + 1]) / sum(dist))
    return median(walsh), low, high, p



def relative_spread(values: Sequence[float]) -> float:
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
    return median(meds), relative_spread(meds)
