"""Benchmark what relevance costs: scanning a large joblib model, and the in-process record.

    PYTHON_WITH_JOBLIB=/path/to/python .venv/bin/python scripts/bench_model_scan.py [--mb 500]

1. Writes a joblib file of about ``--mb`` MB (uncompressed: a scikit-learn-like dict with large
   NumPy arrays, which joblib stores raw after the pickle stream), with the interpreter in
   ``PYTHON_WITH_JOBLIB`` (it needs numpy and joblib; default: this one), then scans it in a
   fresh child process and prints the scan time, the sha256 time, and the peak RSS the scan
   added (targets: scan under 2 s, under 64 MB extra memory).
2. Times the relevance record of an in-process snapshot (the loaded distributions and their
   closure) over this interpreter's installed distributions (target: under 10 ms with 120).

Timings on a shared machine: report the load with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAKE = """
import sys, joblib, numpy as np
mb = int(sys.argv[2])
rows = mb * (1 << 20) // (8 * 64)
obj = {"coef": np.ones((rows, 64)), "classes": np.arange(10), "names": ["a", "b"],
       "obj": np.array(["x", None], dtype=object)}
joblib.dump(obj, sys.argv[1])
"""

SCAN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from envparity.relevance import artifacts, pickles
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
scan = pickles.scan_file(sys.argv[1])
scan_s = time.perf_counter() - t0
peak_scan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
(record,) = artifacts.inspect(sys.argv[1])
inspect_s, inspect_cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"scan_s": scan_s, "inspect_s": inspect_s, "inspect_cpu": inspect_cpu,
                  "globals": len(scan.globals),
                  "scan_extra_mb": (peak_scan - before) / 1024,
                  "extra_mb": (peak - before) / 1024}))
"""

RECORD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from envparity.relevance import distributions, record
n = len(distributions.module_owners())  # imports and the first pass, as in a snapshot
times = []
for _ in range(int(sys.argv[2])):
    distributions._CACHE.clear()
    t0 = time.process_time()
    record.record(loaded=True)
    times.append((time.process_time() - t0) * 1000)
times.sort()
from importlib import metadata
print(json.dumps({"distributions": len(list(metadata.distributions())), "median_cpu_ms":
                  times[len(times) // 2]}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    maker = os.environ.get("PYTHON_WITH_JOBLIB") or sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.joblib")
        subprocess.run([maker, "-c", MAKE, path, str(args.mb)], check=True)
        size = os.path.getsize(path) / (1 << 20)
        done = subprocess.run(
            [sys.executable, "-c", SCAN, path, str(ROOT)],
            check=True, capture_output=True, text=True,
        )
        r = json.loads(done.stdout)
        print(
            f"joblib file of {size:.0f} MB: opcode scan {r['scan_s']:.3f} s, "
            f"{r['scan_extra_mb']:.1f} MB extra peak RSS (targets < 2 s, < 64 MB); "
            f"full record with sha256 {r['inspect_s']:.3f} s wall, {r['inspect_cpu']:.3f} s CPU, "
            f"{r['extra_mb']:.1f} MB extra; "
            f"{r['globals']} globals"
        )
    done = subprocess.run(
        [sys.executable, "-c", RECORD, str(ROOT), str(args.repeat)],
        check=True, capture_output=True, text=True,
    )
    r = json.loads(done.stdout)
    print(
        f"relevance record of an in-process snapshot, {r['distributions']} distributions: "
        f"median {r['median_cpu_ms']:.2f} ms CPU (target < 10 ms with 120)"
    )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
