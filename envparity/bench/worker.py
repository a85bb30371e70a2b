"""The worker process: ``python -m envparity.bench.worker`` reads a job (JSON) on stdin, times the
benchmarks it names, and writes the results (JSON) on stdout.

A job::

    {"sys_path": [...], "rounds": 8, "warmups": 1, "seed": 3, "target_s": 0.002,
     "benchmarks": [{"name": "py_loop", "builtin": "py_loop", "loops": null},
                    {"name": "mine", "target": "pkg.mod:predict", "setup": "pkg.mod:load"}]}

A result per benchmark: ``{"status": "ok|skipped|failed", "reason": ..., "loops": N,
"samples": [seconds per loop, ...], "peak": bytes}``. Only the standard library and the benchmark
itself are imported here, so a worker starts in a few tens of milliseconds.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import sys
import time
import tracemalloc
from typing import Any, Callable, Collection, Dict, List, Optional, Union

from . import conditions
from .suite import BUILTINS, Loop, Skip, Timed

# A sample should take 1-5 ms: long enough that the timer's resolution and the loop's overhead
# vanish, short enough that many fit in a quick suite.
TARGET_S = 0.0012
_MIN_S, _MAX_S = 0.001, 0.005


def _error(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    return text if len(text) <= 300 else text[:297] + "..."


def user_timed(fn: Callable[..., Any], setup: Optional[Callable[[], Any]]) -> Timed:
    """A user benchmark as a :class:`Timed`: ``setup()`` once, then ``fn(state)`` (or ``fn()``)."""
    if setup is None:
        return Loop(fn)
    state = setup()
    return Loop(lambda: fn(state))


def calibrate(timed: Timed, target_s: float = TARGET_S) -> int:
    """Loops per sample so that a sample takes about ``target_s`` (1-5 ms), in a few calls."""
    once = timed.run(1)
    if once >= target_s:
        once = timed.run(1)  # the first call is cold (page faults, lazy set-up): time a warm one
        if once >= target_s:
            return 1
    loops = max(1, math.ceil(target_s / max(once, 1e-9)))
    for _ in range(3):
        # The first call is cold and a neighbour can stall any one call: take the faster of two
        # warm measurements, so one slow call does not leave the loop count far too small.
        took = min(timed.run(loops), timed.run(loops))
        if _MIN_S <= took <= _MAX_S:
            break
        loops = max(1, math.ceil(loops * target_s / max(took, 1e-9)))
    return loops


def _peak(timed: Timed) -> Optional[int]:
    """Peak memory of one untimed call, after the warm-ups (so first-call allocations, lazy
    caches and free lists, are behind it in every worker alike)."""
    own = timed.peak_memory_bytes()
    if own is not None:
        return own
    # tracemalloc sees Python and NumPy allocations; it slows the code, so only an untimed call
    # runs under it, never a timed sample.
    tracemalloc.start()
    try:
        timed.run(1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(
    entries: List[Dict[str, Any]],
    *,
    rounds: int,
    warmups: int,
    seed: int,
    target_s: float = TARGET_S,
    peak: Union[bool, Collection[str]] = True,
) -> Dict[str, Dict[str, Any]]:
    """Time ``entries`` (``name``, ``build() -> Timed``, optional ``loops``) in shuffled rounds.

    Each round takes one sample of every benchmark in a fresh random order, so a slow spell of the
    machine is spread over all of them rather than landing on one. A benchmark that raises is
    recorded as failed with its error and the others go on. ``peak``: also measure the peak
    memory of every benchmark (or of those named): one untimed call under tracemalloc.
    """
    results: Dict[str, Dict[str, Any]] = {}
    live: Dict[str, Timed] = {}
    loops: Dict[str, int] = {}
    for entry in entries:
        name = entry["name"]
        result: Dict[str, Any] = {"status": "ok", "reason": None, "loops": 1, "samples": []}
        results[name] = result
        try:
            timed = entry["build"]()
            n = entry.get("loops")
            if not n:
                # Calibrated as its samples will be taken, inside its context: entering a
                # threadpoolctl limit on every call (about a millisecond) would make every call
                # look long enough and leave the loop count at 1.
                with timed.hold():
                    n = calibrate(timed, target_s)
            for _ in range(max(1, warmups)):
                timed.run(n)
            wanted = peak if isinstance(peak, bool) else name in peak
            if wanted:
                with timed.hold():  # as its samples run: a held context's own allocations
                    result["peak"] = _peak(timed)  # (threadpoolctl's) are not the benchmark's
            else:
                result["peak"] = None
        except Skip as e:
            result.update(status="skipped", reason=str(e))
            continue
        except Exception as e:  # noqa: BLE001 - a user's benchmark may raise anything
            result.update(status="failed", reason=_error(e))
            continue
        live[name] = timed
        loops[name] = result["loops"] = n
    rng = random.Random(seed)
    # A benchmark that changes process state around its samples (the one-thread BLAS limit) gets
    # its own block after the shuffled rounds, with the state held throughout: switching the BLAS
    # thread count between samples would make the multi-threaded GEMM's thread pool state (and
    # its timing) depend on which benchmark the shuffle put before it.
    held = [n for n in live if getattr(live[n], "context", None) is not None]
    plain = [n for n in live if n not in held]
    for _ in range(rounds):
        rng.shuffle(plain)
        for name in plain:
            _sample(name, live, loops, results)
    for name in held:
        timed = live[name]
        try:
            with timed.hold():
                timed.run(loops[name])  # a warm-up in the new state
                for _ in range(rounds):
                    _sample(name, live, loops, results)
        except Exception as e:  # noqa: BLE001
            results[name].update(status="failed", reason=_error(e), samples=[])
    return results


def _sample(
    name: str, live: Dict[str, Timed], loops: Dict[str, int], results: Dict[str, Dict[str, Any]]
) -> None:
    if name not in live:
        return
    try:
        took = live[name].run(loops[name])
    except Exception as e:  # noqa: BLE001 - a user's benchmark may raise anything
        results[name].update(status="failed", reason=_error(e), samples=[])
        del live[name]
        return
    results[name]["samples"].append(took / loops[name])


def _build(spec: Dict[str, Any]) -> Callable[[], Timed]:
    if spec.get("builtin"):
        return BUILTINS[spec["builtin"]]

    def build() -> Timed:
        from .registry import import_target

        fn = import_target(spec["target"])
        setup = import_target(spec["setup"]) if spec.get("setup") else None
        return user_timed(fn, setup)

    return build


def _customize() -> None:
    """What ``site`` would still have done for a worker started with -S: run ``sitecustomize``
    and ``usercustomize`` (a user's environment may set itself up there). Their .pth files are
    not read again: the paths they add came with PYTHONPATH."""
    for name in ("sitecustomize", "usercustomize"):
        try:
            importlib.import_module(name)
        except ImportError as e:
            if e.name != name:  # the module exists and failed inside: as site would, say so
                print(f"Error in {name}: {type(e).__name__}: {e}", file=sys.stderr)
        except Exception as e:  # noqa: BLE001 - site reports these and starts anyway
            print(f"Error in {name}: {type(e).__name__}: {e}", file=sys.stderr)


def main() -> int:
    """Run the job on stdin; results on stdout. Anything the benchmarks print goes to stderr."""
    job = json.loads(sys.stdin.read())
    if sys.flags.no_site:
        _customize()
    # Results go to the original stdout; fd 1 is pointed at stderr so that a print in a user's
    # benchmark (or a C library's) cannot corrupt the JSON.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for entry in reversed(job.get("sys_path") or []):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    started = time.perf_counter()
    entries = [
        {"name": spec["name"], "build": _build(spec), "loops": spec.get("loops")}
        for spec in job["benchmarks"]
    ]
    mark = conditions.start()
    results = measure(
        entries,
        rounds=int(job["rounds"]),
        warmups=int(job["warmups"]),
        seed=int(job["seed"]),
        target_s=float(job.get("target_s") or TARGET_S),
        peak=job["peak"] if isinstance(job.get("peak"), list) else bool(job.get("peak", True)),
    )
    seen = conditions.finish(mark)
    out.write(
        json.dumps(
            {"results": results, "seconds": time.perf_counter() - started, "conditions": seen}
        )
    )
    out.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # The results are written: skip the interpreter's teardown (module cleanup, the BLAS joining
    # its thread pool), 20-40 ms a worker that the suite's wall time would otherwise pay.
    os._exit(code)
