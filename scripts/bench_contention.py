"""Directional safety under contention: a CPU hog on one core during one side's run.

Four designs, ``--pairs`` pairs each (baseline run, then candidate run, quick suite):

- hog during the baseline, candidate quiet; the same with ``OPENBLAS_NUM_THREADS=1`` on the
  candidate (a real slowdown of numpy_gemm_f32 that a hogged baseline can turn around);
- hog during the candidate, baseline quiet; the same with ``OPENBLAS_NUM_THREADS=1``.

A wrong-direction call is "faster" for a benchmark the candidate cannot have made faster (every
benchmark here: the candidate is the same environment, or one with fewer BLAS threads). Also
prints the contention each side's workers saw, with and without the hog: the figures behind
``conditions.CONTENDED``.

    .venv/bin/python scripts/bench_contention.py [--pairs 10]

Exit 1 when any wrong-direction call was made.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from typing import Dict, List, Optional

_HOG = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


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


def main() -> int:
    from envparity.bench.compare import compare_benchmarks

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10)
    args = parser.parse_args()
    one = {"OPENBLAS_NUM_THREADS": "1"}
    designs = [
        ("hog on baseline, candidate A/A", True, False, {}),
        ("hog on baseline, candidate 1 BLAS thread", True, False, one),
        ("hog on candidate, baseline A/A", False, True, {}),
        ("hog on candidate, candidate 1 BLAS thread", False, True, one),
    ]
    wrong = 0
    shares: Dict[str, List[float]] = {"hog": [], "no hog": []}
    for title, hog_base, hog_cand, cand_env in designs:
        verdicts: Counter = Counter()
        gemm: Counter = Counter()
        for _ in range(args.pairs):
            base = _run({}, hog_base)
            cand = _run(cand_env, hog_cand)
            for run, hogged in ((base, hog_base), (cand, hog_cand)):
                if run.conditions is not None and run.conditions.contention is not None:
                    shares["hog" if hogged else "no hog"].append(run.conditions.contention)
            for c in compare_benchmarks(base, cand):
                if c.ratio is None:
                    continue
                verdicts[c.verdict] += 1
                if c.name == "numpy_gemm_f32":
                    gemm[c.verdict] += 1
                if c.verdict == "faster":
                    wrong += 1
                    print(f"  WRONG DIRECTION: {c.name}: {c.why}")
        print(f"{title}: {dict(verdicts)}; numpy_gemm_f32: {dict(gemm)}", flush=True)
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
