"""Slow spells in paired rounds (envparity.bench.spells), on the shape the quiet VM gave them.

A recorded ``bench --against`` at +10% (44 rounds, the quick suite and a user benchmark) had a
spell from round 28 to 34: every CPU-bound benchmark of the workers inside it ~1.9x slower, the
memory-bound ones not. The spell began after the baseline's worker of round 28 and ended before
the baseline's worker of round 34, so those two rounds' ratios were off by 1.9x. The runs below
are that shape, built without a random generator.
"""

from __future__ import annotations

import math
from typing import Dict, List, Set

from envparity.bench.compare import compare_benchmarks
from envparity.bench.paired import _unsettled
from envparity.bench.spells import SPELL_FACTOR, speed_indexes, spell_rounds
from envparity.bench.stats import decide_paired
from envparity.bench.suite import PAIRED_SUFFIX
from envparity.model import BenchmarkResult, BenchmarkRun

ROUNDS = 44
# name -> (seconds, slowed by a spell): five CPU-bound benchmarks, three memory-bound, the user's.
SUITE = {
    "py_loop": (1e-3, True),
    "py_alloc": (2e-3, True),
    "numpy_exp_f64": (5e-4, True),
    "numpy_tanh_f64": (6e-4, True),
    "numpy_gemm_f32": (3e-4, True),
    "mem_copy": (4e-3, False),
    "mem_triad": (5e-3, False),
    "numpy_gemm_f64_1t": (7e-4, False),
    "user:work": (1.1e-4, True),
}


def _noise(i: int, k: int, salt: int) -> float:
    return 1.0 + 0.03 * (((i * 7 + k * 3 + salt * 5) % 11) - 5) / 5


def _side(spell: Set[int], scale: Dict[str, float], salt: int = 0) -> Dict[str, List[List[float]]]:
    out = {}
    for k, (name, (seconds, cpu)) in enumerate(SUITE.items()):
        rounds = []
        for i in range(ROUNDS):
            t = seconds * scale.get(name, 1.0) * _noise(i, k, salt)
            if cpu and i in spell:
                t *= 1.9
            rounds.append([t * f for f in (1.0, 1.02, 1.05)])
        out[name] = rounds
    return out


BASE_SPELL = set(range(29, 34))  # the baseline's workers of rounds 29-33
CAND_SPELL = set(range(28, 35))  # the candidate's of 28-34: rounds 28 and 34 are unequal


def _run(side: Dict[str, List[List[float]]]) -> BenchmarkRun:
    results = [BenchmarkResult(name=n, loops=1, samples=s) for n, s in side.items()]
    return BenchmarkRun(
        suite="quick" + PAIRED_SUFFIX, processes=ROUNDS, wall_seconds=30.0, results=results
    )


def test_spell_rounds_are_the_unequal_ones_and_only_them() -> None:
    base, cand = _side(BASE_SPELL, {}), _side(CAND_SPELL, {"user:work": 1.1}, salt=1)
    spells = spell_rounds(base, cand)
    assert set(spells) == {28, 34}
    assert all(v > SPELL_FACTOR for v in spells.values())
    # One side slow now and then by itself (a thread pool fighting its benchmarks): that is a
    # difference to report, not a spell of the machine; nothing is left out.
    assert spell_rounds(_side(set(), {}), _side({5, 17, 30}, {}, salt=1)) == {}
    # Rounds inside the spell slow both workers alike: kept. A side slower in everything (a
    # real difference, not a spell) moves no index: nothing left out.
    everything = dict.fromkeys(SUITE, 1.5)
    assert spell_rounds(_side(set(), {}), _side(set(), everything, salt=1)) == {}
    # Too few benchmarks for a median that is not the compared benchmark's own noise: none.
    few = {n: r for n, r in base.items() if n in ("py_loop", "user:work")}
    assert speed_indexes(few) == [None] * ROUNDS


def test_a_ten_percent_slowdown_across_a_spell_is_called_with_the_rounds_named() -> None:
    base, cand = _side(BASE_SPELL, {}), _side(CAND_SPELL, {"user:work": 1.1}, salt=1)
    spells = spell_rounds(base, cand)
    kept = decide_paired(base["user:work"], cand["user:work"], left_out=spells)
    whole = decide_paired(base["user:work"], cand["user:work"])
    assert kept.verdict == "slower" and "2 round(s) left out" in kept.why
    assert "paired over 42 rounds" in kept.why
    # The two unequal rounds stretch the interval's far end: what leaving them out removes.
    assert math.log(kept.ci_high / kept.ci_low) < math.log(whole.ci_high / whole.ci_low)
    # The same through the comparison of the two stored runs, as `bench --against` reports it.
    found = {c.name: c for c in compare_benchmarks(_run(base), _run(cand))}
    assert found["user:work"].verdict == "slower" and "left out" in found["user:work"].why
    assert found["py_loop"].verdict == "same"
    # And the adaptive rounds, which decide whether to go on, see the same.
    per = [
        [{n: {"status": "ok", "samples": side[n][i]} for n in SUITE} for i in range(ROUNDS)]
        for side in (base, cand)
    ]
    assert "user:work" not in _unsettled(list(SUITE), per, 0.05)


def test_spells_in_an_aa_comparison_make_no_call_either_way() -> None:
    for a_spell, b_spell in ((BASE_SPELL, CAND_SPELL), (CAND_SPELL, BASE_SPELL)):
        base, cand = _side(a_spell, {}), _side(b_spell, {}, salt=1)
        for c in compare_benchmarks(_run(base), _run(cand)):
            assert c.verdict not in ("slower", "faster"), (c.name, c.why)


def test_the_recorded_spell_is_found_and_the_suite_stays_aa() -> None:
    """The real run the module doc describes: the two unequal rounds are found (and no other),
    the user benchmark is called 10% slower, and the suite's benchmarks, identical on both
    sides, are called neither way."""
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "against_spell_run.json").read_text())
    base, cand = data["runs"]["baseline"], data["runs"]["candidate"]
    spells = spell_rounds(base, cand)
    assert set(spells) == {28, 34}
    user = decide_paired(base["ep_power_bench:work"], cand["ep_power_bench:work"], left_out=spells)
    assert user.verdict == "slower" and 1.05 < user.ci_low < 1.10 < user.ci_high
    for name in base:
        if name != "ep_power_bench:work":
            verdict = decide_paired(base[name], cand[name], left_out=spells).verdict
            assert verdict not in ("slower", "faster"), name
