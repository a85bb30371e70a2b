"""A/A: compare this environment with itself, ``--runs`` times per mode, and report per benchmark
the median log ratio (a side bias shows as a median away from 0; target within +-0.5%) and how
many comparisons were called different (must be <= 1% of them).

    .venv/bin/python scripts/bench_aa.py [--runs 20] [--modes against,stored] [--suite quick]
        [--json OUT]

``against``: ``bench --against`` this same interpreter, no variables on either side (adaptive
rounds within the suite's default time); ``stored``: two suite runs compared as stored runs are.
Besides the suite, both modes time ``scripts/bench_power.py``'s user benchmark (a pure-Python
loop of ~0.7 ms, at scale 1), where the issue saw the bias.
``--pairs`` is the old name of ``--runs``. Cost: ``--runs`` times (an ``--against`` run, up to
30 s quick, plus two quick suites, ~5 s) on a quiet 2-core VM; the script prints the median wall
time of each kind of run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any, Dict, List, Tuple


def _pair(mode: str, suite: str, target: str) -> Tuple[Any, Any]:
    from envparity.bench.runner import run_against, run_suite

    if mode == "against":
        return run_against(sys.executable, suite, callables=[target])
    return tuple(run_suite(suite, callables=[target], numerics=False)[0] for _ in range(2))


def main() -> int:
    from envparity.bench.compare import compare_benchmarks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--pairs", type=int, default=20)
    parser.add_argument("--modes", default="against,stored")
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--json", help="also write every comparison here")
    args = parser.parse_args()
    out = os.path.abspath(args.json) if args.json else None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tempfile

    from bench_power import _MODULE, TARGET  # the same user benchmark as the power table

    root = tempfile.mkdtemp(prefix="ep-aa-")
    with open(os.path.join(root, "ep_power_bench.py"), "w") as f:
        f.write(_MODULE)
    sys.path.insert(0, root)
    os.chdir(root)  # the other side imports the callable from the working directory

    began = time.perf_counter()
    rows: List[Dict[str, Any]] = []
    bad = 0
    for mode in args.modes.split(","):
        walls: List[float] = []
        verdicts: Dict[str, Counter] = defaultdict(Counter)
        logs: Dict[str, List[float]] = defaultdict(list)
        for index in range(args.runs):
            started = time.perf_counter()
            a, b = _pair(mode, args.suite, TARGET)
            walls.append(time.perf_counter() - started)
            for c in compare_benchmarks(a, b):
                if c.ratio is None:
                    continue
                verdicts[c.name][c.verdict] += 1
                logs[c.name].append(math.log(c.ratio))
                rows.append({"mode": mode, "run": index, **c.model_dump(mode="json")})
                if c.verdict in ("faster", "slower"):
                    print(f"{mode} run {index}: {c.name} {c.verdict}: {c.why}", file=sys.stderr)
            print(f"{mode} run {index + 1}/{args.runs}: {walls[-1]:.1f} s", file=sys.stderr)
        print(f"\n{mode}, suite {args.suite}, {args.runs} runs:\n")
        print("| benchmark | median log ratio | range | above 1 | called | verdicts |")
        print("| --- | --- | --- | --- | --- | --- |")
        total = called = 0
        for name, values in logs.items():
            counts = verdicts[name]
            calls = counts["faster"] + counts["slower"]
            total += sum(counts.values())
            called += calls
            med = statistics.median(values)
            above = sum(1 for v in values if v > 0)
            rest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(
                f"| {name} | {100 * med:+.2f}% | {100 * min(values):+.1f}% to "
                f"{100 * max(values):+.1f}% | {above}/{len(values)} | {calls} | {rest} |"
            )
        share = 100.0 * called / total if total else 0.0
        print(
            f"\n{mode}: {called} of {total} comparisons called different ({share:.2f}%); "
            f"wall per run median {statistics.median(walls):.1f} s "
            f"(min {min(walls):.1f}, max {max(walls):.1f})"
        )
        bad += share > 1.0
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
