"""Power and A/A of benchmark comparisons: the table of issue 27, printed in Markdown.

A user benchmark (``--bench-callable``, a pure-Python loop of ~0.7 ms a call on the development
VM) does ``EP_POWER_SCALE`` times the work. Both sides always get the variable, with values of
the same length (``1.0`` against ``1.1``), so the sides' environments differ in that value only.
For each case (+10%: 1.1, +20%: 1.2, -10%: 0.9, A/A: 1.0) and each mode, ``--runs`` comparisons:

- ``against``: one ``bench --against`` of this interpreter with itself, the scale on the other
  side (interleaved rounds, adaptive within ``--max-time``);
- ``stored``: two separate suite runs compared as stored runs are (what ``diff`` does with two
  snapshots taken on different hosts); which side runs first alternates between runs.

Each cell reads "slower 9/10", the expected call over the runs, then the other verdicts, the
median ratio and the median "could detect" of the comparisons (where the code records it). A
wrong-direction call, or any call in A/A, makes the exit code 1.

    .venv/bin/python scripts/bench_power.py [--runs 10] [--aa-runs 20] [--modes against,stored]
        [--cases +10,+20,-10,aa] [--suite quick] [--max-time S] [--hog]

``--hog``: a process spins on one CPU throughout (the issue's "under load"): no wrong-direction
call and no A/A call may happen; power may drop, and each verdict says how far it could see.

Cost: an ``against`` run takes its adaptive time (up to the suite's default, 30 s quick; on the
quiet 2-core VM it usually stops well before), a ``stored`` run two suites (~5 s); the script
prints the median seconds per comparison in each cell and its total time at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

_MODULE = """
import os

N = int(2000 * float(os.environ.get("EP_POWER_SCALE", "1")))


def work():
    total = 0
    for i in range(N):
        total += (i * 7) % 13
    return total
"""
TARGET = "ep_power_bench:work"
CASES: Dict[str, Tuple[str, str, str]] = {
    # case -> (scale on the candidate, the column's title, the call expected)
    "+10": ("1.1", "+10%", "slower"),
    "+20": ("1.2", "+20%", "slower"),
    "-10": ("0.9", "-10% (candidate faster)", "faster"),
    "aa": ("1.0", "A/A (same interpreter, same settings)", "none"),
}
WRONG = {"slower": "faster", "faster": "slower"}


def _compare(mode: str, scale: str, index: int, suite: str, max_time: Optional[float]) -> Any:
    from envparity.bench.compare import compare_benchmarks
    from envparity.bench.runner import run_against, run_suite

    base_env, cand_env = {"EP_POWER_SCALE": "1.0"}, {"EP_POWER_SCALE": scale}
    if mode == "against":
        kw: Dict[str, Any] = {"max_time": max_time} if max_time else {}
        a, b = run_against(
            sys.executable, suite, callables=[TARGET], env=base_env, against_env=cand_env, **kw
        )
    else:
        envs = [base_env, cand_env] if index % 2 == 0 else [cand_env, base_env]
        got = [run_suite(suite, callables=[TARGET], numerics=False, env=e)[0] for e in envs]
        a, b = (got[0], got[1]) if index % 2 == 0 else (got[1], got[0])
    (c,) = [c for c in compare_benchmarks(a, b) if c.name == TARGET]
    contended = any(r.conditions is not None and r.conditions.contended for r in (a, b))
    return c, a.processes, contended


def _cell(expected: str, rows: List[Tuple[Any, float, int, bool]], runs: int) -> str:
    verdicts = Counter(c.verdict for c, _, _, _ in rows)
    if expected == "none":
        called = verdicts["slower"] + verdicts["faster"]
        head = f"no call {runs - called}/{runs}"
    else:
        head = f"`{expected}` {verdicts[expected]}/{runs}"
    rest = ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()) if k != expected)
    ratios = [c.ratio for c, _, _, _ in rows if c.ratio]
    reach = [getattr(c, "detectable_effect", None) for c, _, _, _ in rows]
    reach = [r for r in reach if r is not None]
    parts = [head + (f" ({rest})" if rest else "")]
    if ratios:
        parts.append(f"median ratio {statistics.median(ratios):.3f}")
    if reach:
        parts.append(f"could detect >= {statistics.median(reach):.0%}")
    secs = statistics.median(s for _, s, _, _ in rows)
    rounds = statistics.median(n for _, _, n, _ in rows)
    parts.append(f"{secs:.0f} s, {rounds:g} rounds/processes a run")
    busy = sum(1 for *_, contended in rows if contended)
    if busy:
        parts.append(f"{busy} of {len(rows)} contended")
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--pairs", type=int, default=10, help="comparisons per cell")
    parser.add_argument("--aa-runs", type=int, help="comparisons in the A/A cells (--runs)")
    parser.add_argument("--modes", default="against,stored")
    parser.add_argument("--paired", action="store_true", help="the same as --modes against")
    parser.add_argument("--cases", default="+10,+20,-10,aa")
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--max-time", type=float, help="--against's time budget per run")
    parser.add_argument(
        "--hog", action="store_true", help="keep one CPU busy (a spinning process) throughout"
    )
    args = parser.parse_args()
    modes = ["against"] if args.paired else args.modes.split(",")
    cases = args.cases.split(",")
    for name in cases:
        if name not in CASES:
            parser.error(f"--cases {name!r}: choose from {', '.join(CASES)}")
    root = tempfile.mkdtemp(prefix="ep-power-")
    with open(os.path.join(root, "ep_power_bench.py"), "w") as f:
        f.write(_MODULE)
    sys.path.insert(0, root)
    os.chdir(root)  # the other side imports the callable from the working directory
    began = time.perf_counter()
    hog = None
    if args.hog:
        spin = "import time\nend = time.time() + 86400\nwhile time.time() < end:\n    pass\n"
        hog = subprocess.Popen([sys.executable, "-c", spin])
    try:
        bad, table = _measure(args, modes, cases)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    titles = {"against": "`bench --against PY` (interleaved)", "stored": "stored runs"}
    hogged = ", one-core hog" if args.hog else ""
    print(f"| comparison ({args.suite}{hogged}) | " + " | ".join(CASES[n][1] for n in cases) + " |")
    print("| --- | " + " | ".join("---" for _ in cases) + " |")
    for mode in modes:
        print(f"| {titles.get(mode, mode)} | " + " | ".join(table[mode][n] for n in cases) + " |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\n{time.perf_counter() - began:.0f} s in all; load average at the end {load:.1f} on "
        f"{os.cpu_count()} CPUs; wrong-direction or A/A calls: {bad}"
    )
    return 1 if bad else 0


def _measure(
    args: argparse.Namespace, modes: List[str], cases: List[str]
) -> Tuple[int, Dict[str, Dict[str, str]]]:
    bad = 0
    table: Dict[str, Dict[str, str]] = {m: {} for m in modes}
    for mode in modes:
        for name in cases:
            scale, _, expected = CASES[name]
            runs = (args.aa_runs or args.runs) if name == "aa" else args.runs
            rows = []
            for index in range(runs):
                t0 = time.perf_counter()
                c, n, contended = _compare(mode, scale, index, args.suite, args.max_time)
                rows.append((c, time.perf_counter() - t0, n, contended))
                wrong = c.verdict in ("slower", "faster") and (
                    expected == "none" or c.verdict == WRONG[expected]
                )
                bad += wrong
                print(
                    f"{mode} {name} run {index + 1}/{runs}: {c.verdict} ratio "
                    f"{c.ratio or 0:.3f} ({c.ci_low or 0:.3f}-{c.ci_high or 0:.3f}), "
                    f"{n} rounds, {rows[-1][1]:.1f} s{' WRONG' if wrong else ''}",
                    file=sys.stderr,
                    flush=True,
                )
            table[mode][name] = _cell(expected, rows, runs)
    return bad, table


if __name__ == "__main__":
    sys.exit(main())
