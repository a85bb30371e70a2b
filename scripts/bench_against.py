"""``bench --against``: detection under a CPU hog, and A/A with the same interpreter.

1. Detection: the other side runs with ``NPY_DISABLE_CPU_FEATURES`` turning off NumPy's widest
   dispatch targets this CPU has (AVX-512 where present, else AVX2/``X86_V3``), while a hog
   occupies one core for the whole run; the ``--detect`` benchmarks must be called "slower" in
   every experiment (the interleaved rounds see the hog alike). With AVX-512 off, float64 exp
   and tanh (quick suite) are several times slower; with only AVX2 off (NumPy 2.4 on a CPU
   without AVX-512), float64 exp is unchanged and float32 tanh is ~6x slower: ``--suite full
   --detect numpy_tanh_f32``.
2. Memory: a user benchmark allocating twice as much on the other side must be called "more"
   in each of ``--memory-pairs`` experiments.
3. A/A: ``--against`` this same interpreter, no hog: at most 1% of all benchmark comparisons
   called different (faster/slower), and at most 1% of memory comparisons (more/less).

    .venv/bin/python scripts/bench_against.py [--pairs 10] [--aa-pairs 20] [--memory-pairs 10]
        [--suite quick] [--detect numpy_exp_f64,numpy_tanh_f64] [--save runs.jsonl]

``--save`` appends every pair of runs (JSON lines) for replaying other statistics offline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from typing import List

_HOG = "import time\nend = time.time() + 900\nwhile time.time() < end:\n    pass\n"
_ALLOC = """
import os

SCALE = float(os.environ.get("EP_MEM_SCALE", "1"))


def alloc():
    blob = bytearray(int(200_000 * SCALE))
    return len(blob)
"""


def disable_features() -> List[str]:
    try:
        from numpy._core import _multiarray_umath as umath  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    have = umath.__cpu_features__
    dispatch = [f for f in umath.__cpu_dispatch__ if have.get(f)]
    wide = [f for f in dispatch if "AVX512" in f or f == "X86_V4"]
    if wide:
        return wide
    return [f for f in dispatch if f in ("X86_V3", "AVX2", "FMA3", "AVX512F")]


def main() -> int:
    from envparity.bench.compare import compare_benchmarks
    from envparity.bench.runner import run_against

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--aa-pairs", type=int, default=20)
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--aa-suite", default="quick")
    parser.add_argument("--detect", default="numpy_exp_f64,numpy_tanh_f64")
    parser.add_argument("--memory-pairs", type=int, default=10)
    parser.add_argument("--save")
    args = parser.parse_args()
    detect = args.detect.split(",")

    def save(kind: str, a, b) -> None:
        if args.save:
            with open(args.save, "a") as f:
                doc = {"kind": kind, "a": a.model_dump(mode="json"), "b": b.model_dump(mode="json")}
                f.write(json.dumps(doc) + "\n")

    features = " ".join(disable_features())
    print(f"NPY_DISABLE_CPU_FEATURES={features!r}", flush=True)
    bad = 0
    if features and args.pairs:
        hog = subprocess.Popen([sys.executable, "-c", _HOG])
        try:
            seen: Counter = Counter()
            for _ in range(args.pairs):
                a, b = run_against(
                    sys.executable, args.suite, against_env={"NPY_DISABLE_CPU_FEATURES": features}
                )
                save("detect", a, b)
                for c in compare_benchmarks(a, b):
                    if c.name in detect:
                        seen[(c.name, c.verdict)] += 1
                        ci = f"{c.ci_low:.2f}-{c.ci_high:.2f}"
                        print(f"  {c.name}: {c.verdict} {c.ratio:.2f} ({ci})")
                    if c.verdict == "faster":
                        bad += 1
                        print(f"  WRONG DIRECTION: {c.name}: {c.why}")
                contention = a.conditions.contention if a.conditions else None
                print(f"  (contention in the median worker: {contention})", flush=True)
        finally:
            hog.kill()
            hog.wait()
        for name in detect:
            hits = seen[(name, "slower")]
            print(f"detection under a hog, {name}: slower {hits}/{args.pairs}", flush=True)
            bad += hits < args.pairs
    if args.memory_pairs:
        root = tempfile.mkdtemp(prefix="ep-mem-")
        with open(os.path.join(root, "ep_mem_bench.py"), "w") as f:
            f.write(_ALLOC)
        sys.path.insert(0, root)
        here = os.getcwd()
        os.chdir(root)  # the other side imports callables from its working directory
        more: Counter = Counter()
        for _ in range(args.memory_pairs):
            a, b = run_against(
                sys.executable,
                args.aa_suite,
                callables=["ep_mem_bench:alloc"],
                against_env={"EP_MEM_SCALE": "2"},
            )
            save("memory", a, b)
            (c,) = [c for c in compare_benchmarks(a, b) if c.name == "ep_mem_bench:alloc"]
            more[c.memory_verdict] += 1
        sys.path.remove(root)
        os.chdir(here)
        print(
            f"memory, a benchmark allocating 2x on the other side: more {more['more']}/"
            f"{args.memory_pairs}; {dict(more)}",
            flush=True,
        )
        bad += more["more"] < args.memory_pairs
    calls = total = mem_calls = mem_total = 0
    verdicts: Counter = Counter()
    for _ in range(args.aa_pairs):
        a, b = run_against(sys.executable, args.aa_suite)
        save("aa", a, b)
        for c in compare_benchmarks(a, b):
            if c.memory_verdict is not None:
                mem_total += 1
                mem_calls += c.memory_verdict in ("more", "less")
            if c.ratio is None:
                continue
            total += 1
            verdicts[c.verdict] += 1
            calls += c.verdict in ("faster", "slower")
    if args.aa_pairs:
        print(
            f"A/A --against, {args.aa_pairs} pairs: {calls} of {total} comparisons called "
            f"different ({100 * calls / max(total, 1):.2f}%); {dict(verdicts)}; memory: "
            f"{mem_calls} of {mem_total} called more or less"
        )
        bad += calls > 0.01 * total
        bad += mem_calls > 0.01 * mem_total
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
