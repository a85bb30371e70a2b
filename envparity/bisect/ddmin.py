"""Delta debugging: Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing
Input", IEEE TSE 28(2), 2002), over the differences a bisect can restore.

The property ddmin preserves while it shrinks a set is, here, "restoring this set of differences
to the baseline makes the symptom go away" (``GONE``). A trial that could not run (an overlay that
breaks imports, a timeout) is ``UNRESOLVED``: as in the paper, it is treated as "does not have the
property" and the search goes around it. The result is 1-minimal: restoring any one element less
brings the symptom back. More than one element means an interaction: only the combination works,
e.g. a probe whose output changes when either of two differences is present, so that only
restoring both removes it.

When restoring either of two differences alone removes the symptom, one ddmin run finds one of
them; :func:`alternatives` then looks for another cause among the differences left outside the
first, so both are reported, as alternative causes.

The number of tests is logarithmic in the number of differences when one difference is the cause
(at most two tests per halving), and at most ``n**2 + 3n`` in the worst case (the paper's bound).
Every test goes through the caller's ``test``; repeated sets are answered from a cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Generic, Hashable, List, Sequence, TypeVar

GONE = "gone"  # restoring the set removes the symptom
PRESENT = "present"  # the symptom is still there
UNRESOLVED = "unresolved"  # the trial could not say

T = TypeVar("T", bound=Hashable)


class Exhausted(Exception):
    """Raised by a test function when no more trials may run (trial or time budget spent)."""


@dataclass
class Search(Generic[T]):
    """One ddmin run's result: the set found and whether the search could finish."""

    minimal: List[T]
    complete: bool = True  # False: stopped early (budget), ``minimal`` still removes the symptom
    tests: int = 0  # tests that were not answered from the cache


@dataclass
class Oracle(Generic[T]):
    """Memoises ``test`` by the set tested and counts the real calls."""

    test: Callable[[FrozenSet[T]], str]
    cache: Dict[FrozenSet[T], str] = field(default_factory=dict)
    calls: int = 0

    def __call__(self, items: Sequence[T]) -> str:
        key = frozenset(items)
        if key not in self.cache:
            self.calls += 1
            self.cache[key] = self.test(key)
        return self.cache[key]


def split(items: Sequence[T], n: int) -> List[List[T]]:
    """``items`` in ``n`` contiguous parts whose sizes differ by at most one."""
    out, start = [], 0
    for i in range(n):
        end = start + (len(items) - start) // (n - i)
        out.append(list(items[start:end]))
        start = end
    return [part for part in out if part]


def ddmin(items: Sequence[T], oracle: Oracle[T]) -> Search[T]:
    """A 1-minimal subset of ``items`` that still has the property (``oracle(s) == GONE``).

    The caller has established that ``items`` as a whole has it. An :class:`Exhausted` raised by
    the oracle stops the search: the set reached so far is returned with ``complete=False``.
    """
    c = list(items)
    n = 2
    before = oracle.calls
    try:
        while len(c) >= 2:
            parts = split(c, min(n, len(c)))
            reduced = False
            for part in parts:  # reduce to a subset
                if oracle(part) == GONE:
                    c, n, reduced = part, 2, True
                    break
            if not reduced and len(parts) > 2:  # with two parts the complements are the parts
                for part in parts:  # reduce to a complement
                    rest = [x for x in c if x not in part]
                    if oracle(rest) == GONE:
                        c, n, reduced = rest, max(n - 1, 2), True
                        break
            if not reduced:
                if n >= len(c):
                    break
                n = min(len(c), 2 * n)  # increase granularity
    except Exhausted:
        return Search(c, complete=False, tests=oracle.calls - before)
    return Search(c, complete=True, tests=oracle.calls - before)


def alternatives(
    items: Sequence[T], oracle: Oracle[T], *, limit: int = 4
) -> tuple[List[Search[T]], bool]:
    """Cause sets that are alternatives to one another: each removes the symptom on its own.

    The first is ddmin over ``items``; each next one is ddmin over what the previous ones left
    out, as long as restoring all of that still removes the symptom. Returns the searches and
    whether the search for more could finish (False when the budget ran out first).
    """
    found: List[Search[T]] = []
    rest = list(items)
    while rest and len(found) < limit:
        if found:  # the first set was checked by the caller
            try:
                if oracle(rest) != GONE:
                    break
            except Exhausted:
                return found, False
        search = ddmin(rest, oracle)
        found.append(search)
        if not search.complete:
            return found, False
        taken = set(search.minimal)
        rest = [x for x in rest if x not in taken]
    return found, True


def expected_tests(size: int) -> int:
    """Tests ddmin may still need on a set of ``size`` with one cause: two per halving, plus one
    for a second cause set. Used to share the remaining time among the trials to come."""
    if size <= 1:
        return 1
    return 2 * math.ceil(math.log2(size)) + 1
