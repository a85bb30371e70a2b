"""Record quick-suite runs once, then replay the comparison rules over them offline.

Live A/A and detection runs (bench_aa.py, bench_detect.py) depend on how noisy the machine is
that minute; replaying one recorded set of runs compares statistical choices on the same data.

    .venv/bin/python scripts/bench_replay.py record runs.jsonl [--cycles 15] [--processes 14]
        [--rounds 6]
    .venv/bin/python scripts/bench_replay.py replay runs.jsonl [more.jsonl ...]
        [--processes 12] [--rounds 5] [--location 0 0.25 0.5]

``record`` runs cycles of four quick suites, each in ``--processes`` processes of ``--rounds``
rounds: the default environment, ``OPENBLAS_NUM_THREADS=1``, the default again, NumPy's AVX-512
paths off.
``replay`` keeps the first ``--processes`` processes and ``--rounds`` samples of each (what a
suite of that shape would have measured), then for each ``--location`` (the quantile of the
processes' times, each its fastest sample, that a side is read at) counts A/A calls over
consecutive default runs and detections of each change against the default run before it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

DETECT = {"blas1": ["numpy_gemm_f32"], "avxoff": ["numpy_exp_f64", "numpy_tanh_f64"]}


def record(out: Path, cycles: int, processes: int, rounds: int) -> None:
    from bench_detect import _suite, avx512_features

    from envparity.bench.suite import SUITES

    SUITES["quick"].rounds = rounds
    envs: Dict[str, Dict[str, Optional[str]]] = {
        "base": {"OPENBLAS_NUM_THREADS": None, "NPY_DISABLE_CPU_FEATURES": None},
        "blas1": {"OPENBLAS_NUM_THREADS": "1"},
        "avxoff": {"NPY_DISABLE_CPU_FEATURES": " ".join(avx512_features())},
    }
    with out.open("a") as f:
        for cycle in range(cycles):
            for cond in ("base", "blas1", "base", "avxoff"):
                run = _suite(envs[cond], processes=processes)
                samples = {r.name: r.samples for r in run.results if r.status == "ok"}
                f.write(json.dumps({"cond": cond, "t": time.time(), "res": samples}) + "\n")
                f.flush()
            print(f"cycle {cycle + 1}/{cycles} done", file=sys.stderr)


def replay(files: List[Path], processes: int, rounds: int, locations: List[float]) -> None:
    from envparity.bench import estimators, stats

    sets = [[json.loads(line) for line in p.open()] for p in files]
    n_runs = sum(len(s) for s in sets)
    print(f"{n_runs} recorded runs; replayed as {processes} processes of {rounds} rounds")
    for q in locations:
        estimators.LOCATION = q
        aa: Counter = Counter()
        found: Dict[str, Counter] = {n: Counter() for names in DETECT.values() for n in names}
        for runs in sets:

            def cut(run: Dict[str, Any], name: str) -> List[List[float]]:
                return [s[:rounds] for s in run["res"][name][:processes]]

            bases = [i for i, r in enumerate(runs) if r["cond"] == "base"]
            for i, j in zip(bases, bases[1:]):
                for name in runs[i]["res"]:
                    if name in runs[j]["res"]:
                        pair = (cut(runs[i], name), cut(runs[j], name))
                        aa[stats.decide(*pair, seed=stats.seed_for(name)).verdict] += 1
            for k, run in enumerate(runs):
                before = [i for i in bases if i < k]
                if run["cond"] not in DETECT or not before:
                    continue
                for name in DETECT[run["cond"]]:
                    base = cut(runs[before[-1]], name)
                    v = stats.decide(base, cut(run, name), seed=stats.seed_for(name))
                    found[name][v.verdict] += 1
        calls = aa["faster"] + aa["slower"]
        total = sum(aa.values())
        print(
            f"location {q:.2f}: A/A {calls} of {total} called different "
            f"({100 * calls / max(total, 1):.2f}%), {aa['unstable']} unstable"
        )
        for name, c in found.items():
            print(f"  {name:<16} slower in {c['slower']} of {sum(c.values())}  {dict(c)}")


def main() -> int:
    from envparity.bench.suite import SUITES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--cycles", type=int, default=15)
    rec.add_argument("--processes", type=int, default=14)
    rec.add_argument("--rounds", type=int, default=6)
    rep = sub.add_parser("replay")
    rep.add_argument("files", type=Path, nargs="+")
    quick = SUITES["quick"]  # by default, replayed as the quick suite measures
    rep.add_argument("--processes", type=int, default=quick.processes)
    rep.add_argument("--rounds", type=int, default=quick.rounds)
    rep.add_argument("--location", type=float, nargs="+", default=[0.0, 0.25, 0.5])
    args = parser.parse_args()
    if args.command == "record":
        record(args.out, args.cycles, args.processes, args.rounds)
    else:
        replay(args.files, args.processes, args.rounds, args.location)
    return 0


if __name__ == "__main__":
    sys.exit(main())
