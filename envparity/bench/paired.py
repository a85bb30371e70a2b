"""``run_against``: this environment against another interpreter on this host, one worker of
each per round in a counterbalanced order, for as many rounds as the verdicts need.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import BadInput
from .estimators import median
from .sides import launch, other_side, paired_side
from .suite import PAIRED_SUFFIX
from .workers import (
    Progress,
    benchmark_specs,
    conditions_of,
    learn_loops,
    learn_peaks,
    merge_results,
    parse_callable,
    run_worker,
    suite_spec,
    worker_job,
)

if TYPE_CHECKING:
    from ..model import BenchmarkRun


def schedule(n_rounds: int) -> List[Tuple[int, int]]:
    """The order of the two sides' workers in each round: ``(0, 1)`` A then B, ``(1, 0)`` B
    then A, counterbalanced in blocks of four rounds, AB BA BA AB.

    Every two rounds each side runs first once, so whatever favours the first (or the second)
    worker of a round (a CPU's frequency ramping up, a warm page cache, a neighbour that starts
    between them) falls on both sides alike; every four, each side also follows each side as
    often, so what one worker leaves behind for the next is balanced too, and a drift linear
    over the block cancels.
    """
    orders = []
    for index in range(n_rounds):
        block, second = divmod(index, 2)
        a_first = (block % 2 == 0) != (second == 1)
        orders.append((0, 1) if a_first else (1, 0))
    return orders


# The adaptive rounds of ``bench --against``: at least MIN_PAIRED_ROUNDS (a 99% signed-rank
# call needs 8), then two at a time (one AB, one BA) until every benchmark is settled or the
# time is up; never more than MAX_PAIRED_ROUNDS.
MIN_PAIRED_ROUNDS = 10
MAX_PAIRED_ROUNDS = 200


def _unsettled(
    names: List[str], per: List[List[Dict[str, Dict[str, Any]]]], min_effect: float
) -> List[str]:
    """The benchmarks whose paired verdict is still open: neither a call nor ``same``, with the
    rounds of a slow spell left out as the comparison will leave them out."""
    from .compare import left_out_for, round_spells
    from .stats import decide_paired

    measured: List[Dict[str, List[Any]]] = [{}, {}]
    for name in names:
        for which in (0, 1):
            rounds = [
                p[name]["samples"] for p in per[which] if p.get(name, {}).get("status") == "ok"
            ]
            if len(rounds) == len(per[which]) and rounds:
                measured[which][name] = rounds
    spells = round_spells(*measured)
    open_ = []
    for name in names:
        a, b = measured[0].get(name), measured[1].get(name)
        if a is None or b is None:
            continue  # failed or skipped somewhere: more rounds will not help
        left_out = left_out_for(name, spells)
        verdict = decide_paired(a, b, min_effect=min_effect, left_out=left_out).verdict
        if verdict not in ("slower", "faster", "same"):
            open_.append(name)
    return open_


def run_against(
    python: str,
    suite: str = "quick",
    *,
    callables: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
    against_env: Optional[Dict[str, str]] = None,
    processes: Optional[int] = None,
    max_time: Optional[float] = None,
    min_effect: float = 0.05,
    progress: Optional[Progress] = None,
) -> Tuple[BenchmarkRun, BenchmarkRun]:
    """This environment (A, with ``env``) against ``python`` (B, with ``against_env``) on this
    host: one worker of each per round, in the counterbalanced order of :func:`schedule`, both
    started alike (:func:`paired_side`, :func:`launch`), so that neither side is favoured and load
    and frequency drift hit both alike.

    Adaptive: after :data:`MIN_PAIRED_ROUNDS` rounds, two more at a time while some benchmark's
    paired verdict (at ``min_effect``) is neither a call nor ``same``, until ``max_time`` seconds
    (default: the suite's ``against_s``) would be exceeded. ``processes`` runs exactly that many
    rounds instead. An untimed calibration worker of A runs first, so that no round's worker
    does more than the others (A's first worker used to calibrate, B's did not).

    Returns ``(A's run, B's run)`` with their workers in round order: the i-th process of one
    is paired with the i-th of the other. A round where either worker failed is dropped from
    both. Registered benchmarks that cannot run in a worker are left out (B cannot run them).
    """
    from ..model import BenchmarkRun
    from . import conditions

    spec = suite_spec(suite)
    if processes is not None and processes < 1:
        raise BadInput(f"processes={processes}: need at least one round")
    if max_time is not None and not max_time > 0:
        raise BadInput(f"--max-time {max_time:g}: give a positive number of seconds")
    budget = max_time if max_time is not None else spec.against_s
    callables = [parse_callable(c) for c in callables]
    specs, _ = benchmark_specs(spec.names, callables)
    names = [s["name"] for s in specs]
    sides = [paired_side(sys.executable, env), other_side(python, against_env)]
    cap = processes or MAX_PAIRED_ROUNDS
    orders = schedule(cap)
    progress = progress or Progress(f"bench {suite} --against", 2 * processes if processes else 0)
    machine = conditions.machine()
    started = time.perf_counter()
    per: List[List[Dict[str, Dict[str, Any]]]] = [[], []]
    seen: List[List[Dict[str, Any]]] = [[], []]
    failures: List[List[str]] = [[], []]
    loops: Dict[str, int] = {}
    peaks: List[Dict[str, int]] = [{}, {}]
    durations: List[float] = []
    rounds = 0
    try:
        calibration = dict(worker_job(spec, specs, loops, 0, {}), rounds=0, peak=False)
        doc, _ = run_worker(sides[0], calibration, -1, launch(sides[0], -1))
        if doc is not None:
            learn_loops(doc["results"], loops)  # B times the same work as A
        for index in range(cap):
            if processes is None and index >= MIN_PAIRED_ROUNDS and index % 2 == 0:
                if not _unsettled(names, per, min_effect):
                    break
                if time.perf_counter() - started + 2 * median(durations) > budget:
                    break
            began = time.perf_counter()
            docs: List[Optional[Dict[str, Any]]] = [None, None]
            for k, which in enumerate(orders[index]):
                job = worker_job(spec, specs, loops, index, peaks[which])
                command = launch(sides[which], index)
                doc, why = run_worker(sides[which], job, index, command)
                progress.update(2 * index + k + 1)
                if doc is None:
                    failures[which].append(why)
                docs[which] = doc
                if doc is not None:
                    learn_peaks(doc["results"], peaks[which])
            durations.append(time.perf_counter() - began)
            rounds += 1
            if docs[0] is None or docs[1] is None:
                continue  # a round is a pair: half of one says nothing
            for which in (0, 1):
                doc = docs[which]
                assert doc is not None
                per[which].append(doc["results"])
                if doc.get("conditions"):
                    seen[which].append(doc["conditions"])
    finally:
        progress.close()
    wall = round(time.perf_counter() - started, 4)
    runs = []
    for which in (0, 1):
        runs.append(
            BenchmarkRun(
                suite=suite + PAIRED_SUFFIX,
                processes=rounds,
                wall_seconds=wall,
                results=merge_results(names, per[which], failures[which]),
                conditions=conditions_of(machine, seen[which]),
                python=sides[which].python,
                env=sides[which].extra,
            )
        )
    return runs[0], runs[1]

