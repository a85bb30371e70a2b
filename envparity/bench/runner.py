"""``run_suite``: time a suite in fresh worker processes and collect the results.

Noise on a shared machine is mostly between processes (address-space layout, which core, what the
neighbours do), so one process's samples underestimate it. Each suite runs in several fresh
workers, one after another: running two at a time would halve the wall time but let them fight
over the two cores a multi-threaded GEMM wants. The first worker calibrates the loop counts and
the others reuse them, so every process times the same amount of work and calibration is paid
once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import BadInput
from . import registry
from .stats import median
from .suite import SUITES

if TYPE_CHECKING:
    from ..model import BenchmarkRun, NumericResult

WORKER_TIMEOUT_S = 300.0
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def parse_callable(text: str) -> str:
    """Check a ``--bench-callable module:function``; a malformed or unfindable one is BadInput."""
    if not _CALLABLE.match(text):
        raise BadInput(
            f"--bench-callable {text!r}: expected module:function, e.g. mymodel.bench:predict"
        )
    module = text.partition(":")[0]
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the user's module is here
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as e:
        found = None
        detail = f" ({e})"
    else:
        detail = ""
    if found is None:
        raise BadInput(
            f"--bench-callable {text!r}: no module named {module!r}{detail}; run from the "
            "directory that holds it or install it"
        )
    return text


def _specs(names: List[str], callables: Sequence[str]) -> Tuple[List[Dict[str, Any]], list]:
    """Worker specs (built-ins, importable registered ones, callables) and in-process ones."""
    specs: List[Dict[str, Any]] = [{"name": n, "builtin": n} for n in names]
    in_process = []
    for bench in registry.benchmarks():
        if bench.in_process:
            in_process.append(bench)
        else:
            specs.append({"name": bench.name, "target": bench.target, "setup": bench.setup_target})
    for text in callables:
        specs.append({"name": text, "target": text, "setup": None})
    seen = set()
    for spec in specs:
        if spec["name"] in seen:
            raise BadInput(f"benchmark {spec['name']!r} is given twice; give each name once")
        seen.add(spec["name"])
    return specs, in_process


def _run_worker(job: Dict[str, Any], index: int) -> Tuple[Optional[Dict[str, Any]], str]:
    """One fresh worker process; ``(results, "")`` or ``(None, why it failed)``."""
    # The worker runs without ``site`` (-S): this process's sys.path, site-packages and .pth
    # entries included, reaches it through PYTHONPATH, and what .pth files would import at start-up
    # (40 ms of certifi on one machine seen) is not paid again by every one of the workers.
    # Windows keeps site: .pth files there also add DLL directories.
    paths = [p for p in job.get("sys_path") or [] if p]
    env = dict(os.environ)
    flags: List[str] = []
    if os.name != "nt" and paths:
        flags = ["-S"]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    try:
        done = subprocess.run(
            [sys.executable, *flags, "-m", "envparity.bench.worker"],
            input=json.dumps(job),
            env=env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"worker process {index} took longer than {WORKER_TIMEOUT_S:.0f} s"
    if done.returncode == 0:
        try:
            return json.loads(done.stdout)["results"], ""
        except (ValueError, KeyError):
            pass
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"worker process {index} exited with code {done.returncode}: {tail}"


def _merge(names: List[str], per_process: List[Dict[str, Dict[str, Any]]], failures: List[str]):
    from ..model import BenchmarkResult

    results = []
    for name in names:
        got = [p[name] for p in per_process if name in p]
        ok = [r for r in got if r["status"] == "ok" and r["samples"]]
        failed = [r for r in got if r["status"] == "failed"]
        skipped = [r for r in got if r["status"] == "skipped"]
        peaks = [r["peak"] for r in got if r.get("peak") is not None]
        peak = max(peaks) if peaks else None
        if failed:
            reason = failed[0]["reason"]
            if len(failed) < len(got):
                reason = f"{reason} (in {len(failed)} of {len(got)} processes)"
            results.append(BenchmarkResult(name=name, status="failed", reason=reason))
        elif skipped and not ok:
            reason = skipped[0]["reason"]
            results.append(BenchmarkResult(name=name, status="skipped", reason=reason))
        elif not ok:
            why = failures[0] if failures else "no samples were taken"
            results.append(BenchmarkResult(name=name, status="failed", reason=why))
        else:
            note = None
            if failures:
                note = f"{len(failures)} worker process(es) lost: {failures[0]}"
            results.append(
                BenchmarkResult(
                    name=name,
                    loops=ok[0]["loops"],
                    samples=[r["samples"] for r in ok],
                    peak_memory_bytes=peak,
                    reason=note,
                )
            )
    return results


def run_suite(
    suite: str = "quick",
    *,
    callables: Sequence[str] = (),
    numerics: bool = True,
    processes: Optional[int] = None,
) -> Tuple[BenchmarkRun, Optional[List[NumericResult]]]:
    """Run the ``quick`` or ``full`` suite, registered benchmarks and ``module:function``
    callables; with ``numerics``, the numeric probes too.

    The suite runs up to its number of worker processes (12 quick, 20 full), and at least its
    minimum (9, 15); past the minimum, only as many as fit in its time budget (2.75 s, 15 s) at
    the workers' typical duration so far. ``processes`` asks for exactly that many instead.
    Returns the :class:`~envparity.model.BenchmarkRun` (its ``processes``: how many ran) and the
    numeric results (``None`` without numerics).
    """
    from ..model import BenchmarkRun

    if suite not in SUITES:
        raise BadInput(f"--suite {suite!r}: unknown suite; choose one of {', '.join(SUITES)}")
    spec = SUITES[suite]
    n_proc = processes or spec.processes
    if n_proc < 1:
        raise BadInput(f"processes={n_proc}: need at least one worker process")
    callables = [parse_callable(c) for c in callables]
    specs, in_process = _specs(spec.names, callables)
    started = time.perf_counter()
    per_process: List[Dict[str, Dict[str, Any]]] = []
    failures: List[str] = []
    loops: Dict[str, int] = {}
    durations: List[float] = []
    for index in range(n_proc):
        if processes is None and index >= spec.min_processes:
            if time.perf_counter() - started + median(durations) > spec.budget_s:
                break
        job = {
            "sys_path": [p for p in sys.path if p],
            "rounds": spec.rounds,
            "warmups": spec.warmups,
            "seed": index,
            # Peak memory does not vary between processes the way time does: once is enough.
            "peak": index == 0,
            "benchmarks": [dict(s, loops=loops.get(s["name"])) for s in specs],
        }
        began = time.perf_counter()
        results, why = _run_worker(job, index)
        durations.append(time.perf_counter() - began)
        if results is None:
            failures.append(why)
            continue
        per_process.append(results)
        for name, result in results.items():
            if result["status"] == "ok" and name not in loops:
                loops[name] = result["loops"]
    names = [s["name"] for s in specs]
    merged = _merge(names, per_process, failures)
    merged += _run_in_process(in_process, len(durations), spec.rounds, spec.warmups)
    run = BenchmarkRun(
        suite=suite,
        processes=len(durations),
        wall_seconds=round(time.perf_counter() - started, 4),
        results=merged,
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
    merged = _merge([b.name for b in benches], per_group, [])
    notes = {b.name: b.why_in_process for b in benches}
    return [
        r.model_copy(update={"reason": f"ran in the calling process: {notes[r.name]}"})
        if r.status == "ok"
        else r
        for r in merged
    ]


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
        raise BadInput("--bench-callable needs --bench quick|full to say which suite to run with")
    if (suite or numerics) and snapshot.collection.interpreter:
        raise BadInput(
            "--bench/--numerics measure this interpreter, not --python's; run envparity inside "
            "that environment to benchmark it"
        )
    update: Dict[str, Any] = {}
    if suite:
        run, numeric = run_suite(suite, callables=callables, numerics=numerics is not False)
        update["benchmarks"] = run
        if numeric is not None:
            update["numerics"] = numeric
    elif numerics:
        from .numerics import run_numerics

        update["numerics"] = run_numerics()
    return snapshot.model_copy(update=update) if update else snapshot
