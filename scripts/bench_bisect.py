"""Trials and wall time of ``envparity bisect`` for one cause among N restorable differences.

python scripts/bench_bisect.py [--sizes 4 8 16 32] [--repeat 3]

1. ddmin alone, with a synthetic oracle (one cause, at every position): tests per search, against
   the N a person restoring one difference at a time would need.
2. End to end: a real bisect (child processes, one per trial) of a probe that reads one of N
   variables (``HF_BISECT_00`` ...), all N set differently in the candidate. Median wall time and
   trials over ``--repeat`` runs, the cause at a different position each run.

Prints one line per size. Figures on a shared machine: the trials' count is exact, the wall time
depends on the neighbours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import FrozenSet, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBE = """
import os, envparity
envparity.register_probe("reads", lambda _: [len(os.environ.get({name!r}, ""))], None)
"""


def synthetic(n: int) -> List[int]:
    from envparity.bisect.ddmin import GONE, PRESENT, Oracle, ddmin

    counts = []
    for cause in range(n):
        def test(keys: FrozenSet[int], cause: int = cause) -> str:
            return GONE if cause in keys else PRESENT

        oracle = Oracle(test)
        oracle.cache[frozenset(range(n))] = GONE
        assert ddmin(list(range(n)), oracle).minimal == [cause]
        counts.append(oracle.calls)
    return counts


def end_to_end(n: int, cause: int, work: Path) -> tuple:
    from envparity.bisect.core import bisect
    from envparity.bisect.overlay import Overlays
    from envparity.bisect.symptom import numeric_results
    from envparity.bisect.trial import Trials
    from envparity.collect.capture import capture

    names = [f"HF_BISECT_{i:02d}" for i in range(n)]
    module = f"bisect_probe_{n}_{cause}"
    (work / f"{module}.py").write_text(PROBE.format(name=names[cause]))
    for name in names:
        os.environ.pop(name, None)
    baseline = capture()
    trials = Trials(sys.executable, {}, Overlays(sys.executable), probes=[module])
    _, _, answer, _ = trials.child(frozenset())
    trials.close()
    baseline = baseline.model_copy(
        update={"numerics": numeric_results(answer["probes"])}
    )
    os.environ.update(dict.fromkeys(names, "set"))
    try:
        started = time.perf_counter()
        report = bisect(baseline, probes=[module])
        wall = time.perf_counter() - started
    finally:
        for name in names:
            os.environ.pop(name, None)
    [symptom] = report.symptoms
    assert [c.keys for c in symptom.causes] == [[names[cause]]], symptom
    return len(report.trials), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("ddmin alone, one cause at every position (tests after the all-restored check):")
    for n in sorted(set(args.sizes) | {64, 128, 256, 1024}):
        counts = synthetic(n)
        print(
            f"  N={n:5d}: median {statistics.median(counts):4.1f}, max {max(counts):3d} tests"
            f" (one at a time: up to {n}; 2*log2(N) = {2 * (n - 1).bit_length()})"
        )
    print("end to end (child processes; includes the candidate run and the all-restored run):")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.chdir(work)
        sys.path.insert(0, str(work))
        for n in args.sizes:
            runs = [end_to_end(n, (i * 7 + 3) % n, work) for i in range(args.repeat)]
            trials = [r[0] for r in runs]
            walls = [r[1] for r in runs]
            print(
                f"  N={n:3d}: trials median {statistics.median(trials):4.1f} (max {max(trials)}),"
                f" wall median {statistics.median(walls):5.2f} s"
                f" ({statistics.median(walls) / statistics.median(trials):.2f} s per trial)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
