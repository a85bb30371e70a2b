"""Detection check: two real environment differences must be reported every time.

1. ``OPENBLAS_NUM_THREADS=1`` against the default: multi-thread float32 GEMM (numpy_gemm_f32)
   must be called "slower" in every pair.
2. ``NPY_DISABLE_CPU_FEATURES`` turning off NumPy's AVX-512 dispatch targets (read from NumPy:
   ``AVX512F AVX512CD AVX512_SKX ...`` before NumPy 2.4, ``X86_V4 AVX512_ICL ...`` after): exp and
   tanh must be called "slower" in every pair, and the numeric probes name what changed.

    .venv/bin/python scripts/bench_detect.py [--pairs 10]

OPENBLAS_CORETYPE is left as the machine has it. Exit 1 when a detection was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from typing import Dict, List, Optional


def avx512_features() -> List[str]:
    """NumPy's dispatch targets that use AVX-512 and that this CPU has (empty when none)."""
    try:
        from numpy._core import _multiarray_umath as umath  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    have = umath.__cpu_features__
    return [f for f in umath.__cpu_dispatch__ if ("AVX512" in f or f == "X86_V4") and have.get(f)]


def _suite(env: Dict[str, Optional[str]], processes: Optional[int] = None):
    """A quick suite run with ``env`` applied (None unsets a variable) and then restored."""
    from envparity.bench.runner import run_suite

    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        # workers inherit the environment
        run, _ = run_suite("quick", numerics=False, processes=processes)
        return run
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _numerics(env: Dict[str, str]):
    from envparity.model import NumericResult

    code = (
        "import json; from envparity.bench.numerics import run_numerics; "
        "print(json.dumps([r.model_dump(mode='json') for r in run_numerics()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [NumericResult.model_validate(r) for r in json.loads(out)]


def _medians(run, name: str) -> List[float]:
    from envparity.bench.stats import process_medians

    (result,) = [r for r in run.results if r.name == name]
    return [round(m * 1e3, 3) for m in process_medians(result.samples)]


def experiment(title: str, env: Dict[str, Optional[str]], names: List[str], pairs: int) -> bool:
    from envparity.bench.compare import compare_benchmarks

    print(f"== {title}: {env}")
    counts: Dict[str, Counter] = {n: Counter() for n in names}
    ratios: Dict[str, List[float]] = {n: [] for n in names}
    for _ in range(pairs):
        base = _suite(dict.fromkeys(env))  # the default: the variable unset
        cand = _suite(env)
        for c in compare_benchmarks(base, cand):
            if c.name in counts:
                counts[c.name][c.verdict] += 1
                if c.ratio:
                    ratios[c.name].append(c.ratio)
                if c.verdict != "slower":
                    print(f"  missed {c.name}: {c.verdict}: {c.why}")
                    print(f"    process medians (ms): baseline {_medians(base, c.name)}")
                    print(f"    candidate {_medians(cand, c.name)}")
    ok = True
    for n in names:
        r = sorted(ratios[n])
        mid = r[len(r) // 2] if r else float("nan")
        print(f"  {n:<18} {dict(counts[n])}  median ratio {mid:.2f}  ({len(r)} pairs)")
        ok = ok and counts[n]["slower"] == pairs
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    args = parser.parse_args()
    ok = experiment("BLAS threads", {"OPENBLAS_NUM_THREADS": "1"}, ["numpy_gemm_f32"], args.pairs)
    features = avx512_features()
    if not features:
        print("== AVX-512: this CPU (or NumPy build) has no AVX-512 dispatch targets; skipped")
    else:
        env = {"NPY_DISABLE_CPU_FEATURES": " ".join(features)}
        ok = experiment("AVX-512 off", env, ["numpy_exp_f64", "numpy_tanh_f64"], args.pairs) and ok
        from envparity.parity.compare import compare_numerics

        findings = compare_numerics(_numerics({}), _numerics(env))
        print(f"  numerics: {len(findings)} findings")
        for f in findings:
            print(f"    {f['key']}: {f['severity']}: {f['why']}")
        same_twice = compare_numerics(_numerics({}), _numerics({}))
        print(f"  numerics of the same environment twice: {len(same_twice)} findings")
        ok = ok and not same_twice
    print("detection:", "every time" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
