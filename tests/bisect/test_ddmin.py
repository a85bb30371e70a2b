"""ddmin with synthetic oracles: minimality, interactions, alternatives, the logarithmic bound."""

from __future__ import annotations

import itertools
import math
import random
from typing import Callable, FrozenSet, List, Set

import pytest

from envparity.bisect.ddmin import (
    GONE,
    PRESENT,
    UNRESOLVED,
    Exhausted,
    Oracle,
    alternatives,
    ddmin,
    expected_tests,
    split,
)

Test = Callable[[FrozenSet[int]], str]


def _needs_all(cause: Set[int]) -> Test:
    """The symptom goes only when every element of ``cause`` is restored (an interaction, or a
    symptom either of several differences causes on its own)."""
    return lambda keys: GONE if cause <= keys else PRESENT


def _needs_any(*causes: Set[int]) -> Test:
    """The symptom goes when any one of ``causes`` is restored whole (alternative causes)."""
    return lambda keys: GONE if any(c <= keys for c in causes) else PRESENT


def _one_minimal(found: List[int], test: Test) -> bool:
    s = frozenset(found)
    return test(s) == GONE and all(test(s - {x}) != GONE for x in s)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33])
def test_single_cause_is_found_alone(n: int) -> None:
    for cause in range(n):
        oracle = Oracle(_needs_all({cause}))
        assert ddmin(list(range(n)), oracle).minimal == [cause]


@pytest.mark.parametrize("n", [16, 32, 64, 128, 256, 1024])
def test_one_cause_costs_logarithmic_tests(n: int) -> None:
    worst = 0
    for cause in range(0, n, max(1, n // 16)):
        oracle = Oracle(_needs_all({cause}))
        search = ddmin(list(range(n)), oracle)
        assert search.minimal == [cause]
        worst = max(worst, search.tests)
    # At most two tests per halving: 8 for one cause among 16.
    assert worst <= 2 * math.ceil(math.log2(n)), (n, worst)
    assert worst <= expected_tests(n)


def test_pair_needed_together_is_one_cause_set_of_exactly_those_two() -> None:
    # "either of two differences causes it on its own": restoring one leaves it, so only the
    # pair removes it.
    for a, b in itertools.combinations(range(16), 2):
        oracle = Oracle(_needs_all({a, b}))
        found = ddmin(list(range(16)), oracle).minimal
        assert sorted(found) == [a, b]


def test_alternatives_when_either_of_two_removes_it() -> None:
    oracle = Oracle(_needs_any({3}, {11}))
    found, complete = alternatives(list(range(16)), oracle)
    assert complete
    assert sorted(s.minimal[0] for s in found) == [3, 11]
    assert all(len(s.minimal) == 1 for s in found)


def test_alternatives_stop_when_the_rest_keeps_the_symptom() -> None:
    oracle = Oracle(_needs_all({5}))
    found, complete = alternatives(list(range(16)), oracle)
    assert complete and [s.minimal for s in found] == [[5]]
    # one extra test: restoring everything but 5 keeps the symptom
    assert oracle(list(set(range(16)) - {5})) == PRESENT


@pytest.mark.parametrize("seed", range(30))
def test_random_monotone_oracles_give_one_minimal_sets(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 24)
    causes = [set(rng.sample(range(n), rng.randint(1, 3))) for _ in range(rng.randint(1, 3))]
    test = _needs_any(*causes)
    found, _ = alternatives(list(range(n)), Oracle(test))
    assert found
    for search in found:
        assert _one_minimal(search.minimal, test)
    # alternatives are disjoint
    seen: Set[int] = set()
    for search in found:
        assert not seen & set(search.minimal)
        seen |= set(search.minimal)


def test_unresolved_trials_are_gone_around() -> None:
    # Any set holding 7 without 8 cannot run (an overlay that needs its dependent).
    def test(keys: FrozenSet[int]) -> str:
        if 7 in keys and 8 not in keys:
            return UNRESOLVED
        return GONE if 2 in keys else PRESENT

    found = ddmin(list(range(16)), Oracle(test)).minimal
    assert found == [2]


def test_cache_answers_repeated_sets() -> None:
    calls: List[FrozenSet[int]] = []

    def test(keys: FrozenSet[int]) -> str:
        calls.append(keys)
        return GONE if 4 in keys else PRESENT

    oracle = Oracle(test)
    ddmin(list(range(8)), oracle)
    assert len(calls) == len(set(calls)) == oracle.calls


def test_exhausted_returns_the_set_reached_so_far() -> None:
    budget = {"left": 3}

    def test(keys: FrozenSet[int]) -> str:
        if budget["left"] == 0:
            raise Exhausted("budget")
        budget["left"] -= 1
        return GONE if 9 in keys else PRESENT

    search = ddmin(list(range(64)), Oracle(test))
    assert not search.complete
    assert 9 in search.minimal and len(search.minimal) < 64


def test_split_covers_everything_in_order() -> None:
    for n in range(1, 20):
        for k in range(1, n + 1):
            parts = split(list(range(n)), k)
            assert [x for p in parts for x in p] == list(range(n))
            assert max(map(len, parts)) - min(map(len, parts)) <= 1
