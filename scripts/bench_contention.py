"""Directional safety under contention: a CPU hog on one core during one side's runs.

Four designs, ``--pairs`` pairs each, quick suite:

- hog during the baseline, candidate quiet: the same environment (A/A), and with
  ``OPENBLAS_NUM_THREADS=1`` on the candidate (a real slowdown of numpy_gemm_f32 that a hogged
  baseline can turn around);
- hog during the candidate, baseline quiet: A/A, and with ``OPENBLAS_NUM_THREADS=1``.

The two designs of a hog position share their baseline runs (pair i of each uses baseline
run i). A wrong-direction call is "faster" for a benchmark the candidate cannot have made
faster: every benchmark here (the same environment, or one with fewer BLAS threads). Also
counted: the calls the statistics alone would have made without the contention rule, and the
contention each side's median worker saw with and without the hog (the figures behind
``conditions.CONTENDED``).

    .venv/bin/python scripts/bench_contention.py [--pairs 10]
    .venv/bin/python scripts/bench_contention.py --calibrate 6

``--calibrate N`` runs N quick suites, every other one beside the hog, and prints per worker
how much slower it timed py_loop and numpy_gemm_f32 than the fastest worker seen, binned by the
contention the worker recorded: where slowdowns start is where the threshold belongs.

Exit 1 when any wrong-direction call was made.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from typing import Dict, List, Optional

_HOG = "import time\nend = time.time() + 900\nwhile time.time() < end:\n    pass\n"


def _run(env: Dict[str, str], hog: bool):
    from envparity.bench.runner import run_suite

    proc: Optional[subprocess.Popen] = None
    if hog:
        proc = subprocess.Popen([sys.executable, "-c", _HOG])
    saved = {k: os.environ.get(k) for k in env}
    try:
        os.environ.update(env)
        run, _ = run_suite("quick", numerics=False)
        return run
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if proc is not None:
            proc.kill()
            proc.wait()


def _uncontended(run):
    if run.conditions is None:
        return run
    return run.model_copy(
        update={"conditions": run.conditions.model_copy(update={"contended": False})}
    )


def calibrate(n: int) -> int:
    from envparity.bench.stats import median

    rows = []
    for i in range(n):
        run = _run({}, i % 2 == 1)
        assert run.conditions is not None
        got = {r.name: r for r in run.results if r.status == "ok"}
        for k, w in enumerate(run.conditions.workers):
            if w.contention is None:
                continue
            wait = (w.run_queue_wait_s or 0.0) / w.seconds
            meds = {}
            for name in ("py_loop", "numpy_gemm_f32"):
                if name in got and k < len(got[name].samples):
                    meds[name] = median(got[name].samples[k])
            rows.append((w.contention, wait, meds))
    best = {
        name: min(m[name] for _, _, m in rows if name in m)
        for name in ("py_loop", "numpy_gemm_f32")
    }
    bins = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.45), (0.45, 0.6), (0.6, 2.0)]
    print(
        "contention  workers  run-queue wait  py_loop slowdown  numpy_gemm_f32 slowdown (medians)"
    )
    for lo, hi in bins:
        sel = [r for r in rows if lo <= r[0] < hi]
        if not sel:
            continue
        slow = {
            name: median([m[name] / best[name] for _, _, m in sel if name in m]) for name in best
        }
        print(
            f"{lo:.2f}-{hi:.2f}   {len(sel):>7}  {median([r[1] for r in sel]):>14.2f}  "
            f"{slow['py_loop']:>16.2f}  {slow['numpy_gemm_f32']:>23.2f}"
        )
    return 0


def main() -> int:
    from envparity.bench.compare import compare_benchmarks

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--calibrate", type=int, default=0)
    args = parser.parse_args()
    if args.calibrate:
        return calibrate(args.calibrate)
    one = {"OPENBLAS_NUM_THREADS": "1"}
    wrong = 0
    shares: Dict[str, List[float]] = {"hog": [], "no hog": []}
    for hog_on in ("baseline", "candidate"):
        tallies = {name: (Counter(), Counter(), Counter()) for name in ("A/A", "1 BLAS thread")}
        for _ in range(args.pairs):
            base = _run({}, hog_on == "baseline")
            cands = {
                "A/A": _run({}, hog_on == "candidate"),
                "1 BLAS thread": _run(one, hog_on == "candidate"),
            }
            for run, hogged in [(base, hog_on == "baseline")] + [
                (c, hog_on == "candidate") for c in cands.values()
            ]:
                if run.conditions is not None and run.conditions.contention is not None:
                    shares["hog" if hogged else "no hog"].append(run.conditions.contention)
            for design, cand in cands.items():
                verdicts, gemm, raw = tallies[design]
                for c in compare_benchmarks(base, cand):
                    if c.ratio is None:
                        continue
                    verdicts[c.verdict] += 1
                    if c.name == "numpy_gemm_f32":
                        gemm[c.verdict] += 1
                    if c.verdict == "faster":
                        wrong += 1
                        print(f"  WRONG DIRECTION: {c.name}: {c.why}")
                for c in compare_benchmarks(_uncontended(base), _uncontended(cand)):
                    if c.ratio is not None:
                        raw[c.verdict] += 1
        for design, (verdicts, gemm, raw) in tallies.items():
            print(
                f"hog on the {hog_on}, candidate {design}, {args.pairs} pairs: "
                f"{dict(verdicts)}; numpy_gemm_f32: {dict(gemm)}; without the contention "
                f"rule: {dict(raw)}",
                flush=True,
            )
    for k, v in shares.items():
        v.sort()
        if v:
            print(
                f"median-worker contention, {k}: min {v[0]:.2f}, median {v[len(v) // 2]:.2f}, "
                f"max {v[-1]:.2f} over {len(v)} runs"
            )
    print(f"wrong-direction calls: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
