"""Slow spells: the rounds of ``bench --against`` in which one worker ran while the machine itself
ran at another speed than for the rest of its side's workers.

On the project's 2-CPU VM the host now and then runs every CPU-bound benchmark about 1.9x slower
for a few seconds (a pure-Python loop, ``exp``, a user's function alike; memory-bound ones not),
with no steal, load, contention or frequency change visible from inside. Inside a spell both
workers of a round are slowed and the round's ratio is right; a spell that begins or ends between
a round's two workers makes that round's ratio off by the spell's whole factor, one way or the
other. Those few rounds widened the 99% interval of a 10% slowdown past the 5% minimum effect in
three of ten comparisons (e.g. 1.010-1.143, over 42 rounds).

A worker's **speed index** is the median, over the benchmarks its side measured in every round,
of the worker's fastest sample over that benchmark's median across the side's rounds. Only one
side's own workers are compared with each other, so a real difference between the sides (one
side 1.5x slower in everything, a slower Python) moves no index. A round is left out when its two
workers' indexes differ by more than :data:`SPELL_FACTOR` and the other side ran at the spell's
speed in a neighbouring round (:func:`spell_rounds`); with fewer than :data:`MIN_BENCHMARKS` such
benchmarks on a side nothing is left out, since a median of one or two benchmarks would be the
compared benchmark's own noise.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

from .estimators import median

SPELL_FACTOR = 1.25
MIN_BENCHMARKS = 4

Rounds = Sequence[Sequence[float]]  # one benchmark on one side: samples per round


def speed_indexes(side: Mapping[str, Rounds]) -> List[Optional[float]]:
    """Per round, the worker's speed index on this side (see the module doc), or None for every
    round when too few benchmarks were measured in every round."""
    n = max((len(rounds) for rounds in side.values()), default=0)
    names = [
        name
        for name, rounds in side.items()
        if len(rounds) == n and all(rounds) and all(min(r) > 0 for r in rounds)
    ]
    if n == 0 or len(names) < MIN_BENCHMARKS:
        return [None] * n
    fastest = {name: [min(r) for r in side[name]] for name in names}
    usual = {name: median(times) for name, times in fastest.items()}
    return [median([fastest[name][i] / usual[name] for name in names]) for i in range(n)]


def spell_rounds(
    baseline: Mapping[str, Rounds], candidate: Mapping[str, Rounds]
) -> Dict[int, float]:
    """The rounds to leave out of a paired comparison, each with the speed index of the worker
    that ran in a spell.

    A round is left out when its two workers' indexes differ by more than
    :data:`SPELL_FACTOR` (one ran in a spell, the other not; inside a spell both are slowed
    alike and the round is kept) and the other side's worker of a neighbouring round ran at the
    spell's speed too: the machine's spell, not one side's own. A side that is now and then slow
    by itself (a thread pool fighting the benchmark) leaves nothing out: its slowness is a
    difference to report.
    """
    a, b = speed_indexes(baseline), speed_indexes(candidate)
    out: Dict[int, float] = {}
    limit = math.log(SPELL_FACTOR)
    for i in range(min(len(a), len(b))):
        ia, ib = a[i], b[i]
        if ia is None or ib is None or abs(math.log(ib / ia)) <= limit:
            continue
        # The worker in the spell: the one further from its side's usual speed.
        mine, other = (b, a) if abs(math.log(ib)) >= abs(math.log(ia)) else (a, b)
        index = mine[i]
        assert index is not None
        for j in (i - 1, i + 1):
            near = other[j] if 0 <= j < len(other) else None
            if near is not None and abs(math.log(near / index)) <= limit:
                out[i] = index
                break
    return out


def spell_note(spells: Mapping[int, float]) -> str:
    """How a verdict says which rounds it left out, or ``""``."""
    if not spells:
        return ""
    worst = max(spells.values(), key=lambda x: abs(x - 1))
    return (
        f"{len(spells)} round(s) left out: a worker ran in a spell when the machine was "
        f"{'slower' if worst > 1 else 'faster'} (its benchmarks took {worst:.2f}x their usual "
        "time on its side)"
    )
