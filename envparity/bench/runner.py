"""``run_suite``: time a suite in fresh worker processes and collect the results.

Noise on a shared machine is mostly between processes (address-space layout, which core, what the
neighbours do), so one process's samples underestimate it. Each suite runs in several fresh
workers, one after another: running two at a time would halve the wall time but let them fight
over the two cores a multi-threaded GEMM wants. The first worker calibrates the loop counts and
the others reuse them, so every process times the same amount of work and calibration is paid
once.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import BadInput
from .estimators import median
from .paired import run_against as run_against  # `bench --against`, from where scripts import it
from .sides import this_side
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
    from ..model import BenchmarkRun, NumericResult


def run_suite(
    suite: str = "quick",
    *,
    callables: Sequence[str] = (),
    numerics: bool = True,
    processes: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    progress: Optional[Progress] = None,
) -> Tuple[BenchmarkRun, Optional[List[NumericResult]]]:
    """Run the ``quick`` or ``full`` suite, registered benchmarks and ``module:function``
    callables; with ``numerics``, the numeric probes too.

    The suite runs up to its number of worker processes (12 quick, 20 full), and at least its
    minimum (9, 15); past the minimum, only as many as fit in its time budget (2.5 s, 15 s) at
    the workers' typical duration so far. ``processes`` asks for exactly that many instead.
    ``env``: extra variables for the workers. The run records its conditions (load, others' CPU
    time, steal, frequency; see :mod:`.conditions`), with a warning when it was contended.
    Returns the :class:`~envparity.model.BenchmarkRun` (its ``processes``: how many ran) and the
    numeric results (``None`` without numerics).
    """
    from ..model import BenchmarkRun
    from . import conditions

    spec = suite_spec(suite)
    n_proc = processes or spec.processes
    if n_proc < 1:
        raise BadInput(f"processes={n_proc}: need at least one worker process")
    callables = [parse_callable(c) for c in callables]
    specs, in_process = benchmark_specs(spec.names, callables)
    side = this_side(env)
    progress = progress or Progress(f"bench {suite}", n_proc)
    machine = conditions.machine()
    started = time.perf_counter()
    per_process: List[Dict[str, Dict[str, Any]]] = []
    seen: List[Dict[str, Any]] = []
    failures: List[str] = []
    loops: Dict[str, int] = {}
    peaks: Dict[str, int] = {}
    durations: List[float] = []
    try:
        for index in range(n_proc):
            if processes is None and index >= spec.min_processes:
                if time.perf_counter() - started + median(durations) > spec.budget_s:
                    break
            began = time.perf_counter()
            doc, why = run_worker(side, worker_job(spec, specs, loops, index, peaks), index)
            durations.append(time.perf_counter() - began)
            progress.update(index + 1)
            if doc is None:
                failures.append(why)
                continue
            per_process.append(doc["results"])
            if doc.get("conditions"):
                seen.append(doc["conditions"])
            learn_loops(doc["results"], loops)
            learn_peaks(doc["results"], peaks)
        names = [s["name"] for s in specs]
        merged = merge_results(names, per_process, failures)
        merged += _run_in_process(in_process, len(durations), spec.rounds, spec.warmups)
    finally:
        progress.close()
    run = BenchmarkRun(
        suite=suite,
        processes=len(durations),
        wall_seconds=round(time.perf_counter() - started, 4),
        results=merged,
        conditions=conditions_of(machine, seen),
        python=sys.executable,
        env=side.extra,
    )
    numeric_results = None
    if numerics:
        from .numerics import run_numerics

        numeric_results = run_numerics()
    return run, numeric_results


def _run_in_process(benches: list, groups: int, rounds: int, warmups: int) -> list:
    """Registered benchmarks a worker cannot import, timed here in ``groups`` groups of rounds.

    The groups stand in for processes so the statistics stay the same shape, but they share this
    process's noise: the result's reason says so.
    """
    if not benches:
        return []
    from .worker import measure, user_timed

    per_group: List[Dict[str, Dict[str, Any]]] = []
    loops: Dict[str, int] = {}
    for index in range(groups):
        entries = [
            {
                "name": b.name,
                "build": (lambda b=b: user_timed(b.fn, b.setup)),
                "loops": loops.get(b.name),
            }
            for b in benches
        ]
        results = measure(entries, rounds=rounds, warmups=warmups, seed=index)
        per_group.append(results)
        for name, result in results.items():
            if result["status"] == "ok":
                loops.setdefault(name, result["loops"])
    merged = merge_results([b.name for b in benches], per_group, [])
    notes = {b.name: b.why_in_process for b in benches}
    return [
        r.model_copy(update={"reason": f"ran in the calling process: {notes[r.name]}"})
        if r.status == "ok"
        else r
        for r in merged
    ]


def warn_if_contended(run: Any, stream: Any = None) -> None:
    """Say on stderr, when it is captured, that a run was contended (its warning is stored too)."""
    if run.conditions is not None and run.conditions.warning:
        (stream or sys.stderr).write(f"warning: {run.conditions.warning}\n")


def attach(
    snapshot: Any,
    suite: Optional[str],
    *,
    callables: Sequence[str] = (),
    numerics: Optional[bool] = None,
) -> Any:
    """``snapshot`` with benchmark results and numerics filled in, as ``envparity snapshot
    --bench SUITE [--numerics/--no-numerics] [--bench-callable M:F]`` asks.

    Numerics are on by default with a suite; ``numerics=True`` alone records them without timing
    anything. Both are instance-only fields, so the fingerprint does not change.
    """
    if callables and not suite:
        raise BadInput("--bench-callable needs --suite quick|full to say which suite to run with")
    if (suite or numerics) and snapshot.collection.interpreter:
        raise BadInput(
            "--python cannot be combined with --suite or --numerics: they measure this "
            "interpreter, not --python's; run envparity inside that environment to benchmark it"
        )
    update: Dict[str, Any] = {}
    if suite:
        run, numeric = run_suite(suite, callables=callables, numerics=numerics is not False)
        warn_if_contended(run)
        update["benchmarks"] = run
        if numeric is not None:
            update["numerics"] = numeric
    elif numerics:
        from .numerics import run_numerics

        update["numerics"] = run_numerics()
    return snapshot.model_copy(update=update) if update else snapshot
