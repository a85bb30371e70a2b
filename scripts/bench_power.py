"""Power: the smallest slowdown of a CPU-bound user benchmark that a suite detects.

A user benchmark (a pure-Python loop) does ``SCALE`` times the work in the candidate; for each
scale, ``--pairs`` pairs of runs (a baseline each, the candidate with the scale) with the
given suite. Prints the detection rate per scale and the verdicts given otherwise. A 10%
slowdown must never be called "same" (exit 1 if it is).

    .venv/bin/python scripts/bench_power.py [--pairs 10] [--suite quick] [--scales 1.05,1.1,1.2,1.5]
        [--paired]

``--paired``: each pair is one ``bench --against`` of this interpreter with itself, the scale
set on the other side (interleaved rounds). Unpaired, the verdicts the statistics alone would
give without the contention rule are counted too (``raw``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter

_MODULE = """
import os

N = int(2000 * float(os.environ.get("EP_POWER_SCALE", "1")))


def work():
    total = 0
    for i in range(N):
        total += (i * 7) % 13
    return total
"""


def main() -> int:
    from envparity.bench.compare import compare_benchmarks
    from envparity.bench.runner import run_suite

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--scales", default="1.05,1.1,1.2,1.5")
    parser.add_argument("--paired", action="store_true")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    root = tempfile.mkdtemp(prefix="ep-power-")
    with open(os.path.join(root, "ep_power_bench.py"), "w") as f:
        f.write(_MODULE)
    sys.path.insert(0, root)
    os.chdir(root)
    target = "ep_power_bench:work"
    bad = 0
    if args.paired:
        from envparity.bench.runner import run_against

        for scale in scales:
            verdicts: Counter = Counter()
            for _ in range(args.pairs):
                a, b = run_against(
                    sys.executable,
                    args.suite,
                    callables=[target],
                    against_env={"EP_POWER_SCALE": str(scale)},
                )
                (c,) = [c for c in compare_benchmarks(a, b) if c.name == target]
                verdicts[c.verdict] += 1
            print(
                f"{args.suite} --against, scale {scale:.2f}: slower {verdicts['slower']}/"
                f"{args.pairs}, otherwise { {k: v for k, v in verdicts.items() if k != 'slower'} }",
                flush=True,
            )
            bad += (scale >= 1.1 and verdicts["same"] > 0) + verdicts["faster"]
        return 1 if bad else 0
    # One baseline run per pair, shared by every scale (pair i of each scale uses baseline i).
    bases = []
    for _ in range(args.pairs):
        os.environ.pop("EP_POWER_SCALE", None)
        bases.append(run_suite(args.suite, callables=[target], numerics=False)[0])
    contended = sum(1 for b in bases if b.conditions is not None and b.conditions.contended)
    print(f"{contended} of {args.pairs} baseline runs contended", flush=True)
    for scale in scales:
        verdicts = Counter()
        raw: Counter = Counter()
        for base in bases:
            os.environ["EP_POWER_SCALE"] = str(scale)
            cand, _ = run_suite(args.suite, callables=[target], numerics=False)
            os.environ.pop("EP_POWER_SCALE", None)
            (c,) = [c for c in compare_benchmarks(base, cand) if c.name == target]
            verdicts[c.verdict] += 1
            if c.verdict == "unstable" and c.contended_sides:
                verdicts["(of which held back by contention)"] += 1
            quiet = [
                r.model_copy(
                    update={"conditions": r.conditions.model_copy(update={"contended": False})}
                )
                if r.conditions is not None
                else r
                for r in (base, cand)
            ]
            (c,) = [c for c in compare_benchmarks(*quiet) if c.name == target]
            raw[c.verdict] += 1
        detected = verdicts["slower"]
        print(
            f"{args.suite} scale {scale:.2f}: slower {detected}/{args.pairs}, "
            f"otherwise { {k: v for k, v in verdicts.items() if k != 'slower'} }; "
            f"raw {dict(raw)}",
            flush=True,
        )
        if scale >= 1.1 and verdicts["same"]:
            bad += 1
        if verdicts["faster"]:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
