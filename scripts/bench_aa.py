"""A/A check: run the quick suite twice per pair, N pairs, in this same environment, and report how
many benchmark comparisons were called different (faster or slower). Must be <= 1%.

    .venv/bin/python scripts/bench_aa.py [--pairs 20] [--suite quick] [--json OUT]

Also prints the median wall time of a suite run (the quick suite must take under 3 s here).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Dict


def main() -> int:
    from envparity.bench.compare import compare_benchmarks
    from envparity.bench.runner import run_suite

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--json", help="also write the raw verdicts here")
    args = parser.parse_args()

    walls = []
    per_bench: Dict[str, Counter] = defaultdict(Counter)
    ratios: Dict[str, list] = defaultdict(list)
    rows = []
    for pair in range(args.pairs):
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            run, _ = run_suite(args.suite, numerics=False)
            walls.append(time.perf_counter() - started)
            runs.append(run)
        for c in compare_benchmarks(runs[0], runs[1]):
            if c.verdict in ("skipped", "missing"):
                continue
            per_bench[c.name][c.verdict] += 1
            if c.ratio is not None:
                ratios[c.name].append(c.ratio)
            rows.append({"pair": pair, **c.model_dump(mode="json")})
            if c.verdict in ("faster", "slower"):
                print(f"pair {pair}: {c.name} {c.verdict}: {c.why}", file=sys.stderr)
        print(f"pair {pair + 1}/{args.pairs} done", file=sys.stderr)

    total = sum(sum(c.values()) for c in per_bench.values())
    called = sum(c["faster"] + c["slower"] for c in per_bench.values())
    print(
        f"{'benchmark':<22} {'same':>5} {'inconcl':>7} {'unstable':>8} {'faster':>6} "
        f"{'slower':>6}  ratios"
    )
    for name, counts in per_bench.items():
        r = sorted(ratios[name])
        print(
            f"{name:<22} {counts['same']:>5} {counts['inconclusive']:>7} {counts['unstable']:>8} "
            f"{counts['faster']:>6} "
            f"{counts['slower']:>6}  median {statistics.median(r):.3f} range {r[0]:.3f}-{r[-1]:.3f}"
        )
    share = 100.0 * called / total if total else 0.0
    print(
        f"A/A: {called} of {total} benchmark comparisons called different ({share:.2f}%) over "
        f"{args.pairs} pairs; {sum(c['unstable'] for c in per_bench.values())} unstable, "
        f"{sum(c['inconclusive'] for c in per_bench.values())} inconclusive"
    )
    print(
        f"suite {args.suite} wall: median {statistics.median(walls):.2f} s "
        f"(min {min(walls):.2f}, max {max(walls):.2f}) over {len(walls)} runs"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if share <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
