"""Benchmark the snapshot core (issue 2): in-process capture, and the CLI against `pip freeze`.

    python scripts/bench_snapshot.py [--python PATH] [--runs 15]

PATH is an interpreter with envparity installed (default: this one). For a realistic training
environment, use a venv that sees ~100 packages, e.g.
    python3 -m venv --system-site-packages /tmp/bench && /tmp/bench/bin/pip install .
Both commands run on the same interpreter, alternately, in one run; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

IN_PROCESS = """
import json, statistics, time, envparity
envparity.snapshot()  # first call pays the imports; the median is of the steady state
times, probes = [], []
for _ in range({runs}):
    t = time.perf_counter(); s = envparity.snapshot(); times.append(time.perf_counter() - t)
    probes.append(s.collection.durations_ms)
print(json.dumps({{
    "median_ms": statistics.median(times) * 1e3,
    "packages": len(s.packages),
    "blas": [lib.key for lib in s.blas],
    "probes_ms": {{k: statistics.median(p[k] for p in probes) for k in probes[0]}},
}}))
"""


def _time(cmd, env) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ)
    out = subprocess.run(
        [args.python, "-c", IN_PROCESS.format(runs=max(args.runs, 30))],
        capture_output=True, text=True, check=True, env=env,
    )
    inproc = json.loads(out.stdout)
    print(
        f"in-process envparity.snapshot(): median {inproc['median_ms']:.1f} ms "
        f"({inproc['packages']} packages, BLAS/OpenMP {', '.join(inproc['blas']) or '-'})"
    )
    probes = ", ".join(f"{k} {v:.1f}" for k, v in inproc["probes_ms"].items())
    print(f"  per probe, median ms: {probes}")

    bindir = os.path.dirname(args.python)
    cli = os.path.join(bindir, "envparity")
    with tempfile.TemporaryDirectory() as tmp:
        snapshot_cmd = [cli, "snapshot", "--no-store", "-o", os.path.join(tmp, "s.json")]
        # --python: the same interpreter probed as a child (what a CI job checking a serving
        # image's interpreter pays).
        python_cmd = snapshot_cmd[:3] + ["--python", args.python] + snapshot_cmd[3:]
        freeze_cmd = [args.python, "-m", "pip", "freeze"]
        for cmd in (snapshot_cmd, python_cmd, freeze_cmd):  # warm the file cache
            _time(cmd, env)
        ours, remote, pips = [], [], []
        for _ in range(args.runs):
            ours.append(_time(snapshot_cmd, env))
            remote.append(_time(python_cmd, env))
            pips.append(_time(freeze_cmd, env))
    m_ours, m_remote, m_pip = (statistics.median(x) for x in (ours, remote, pips))
    print(f"`envparity snapshot --no-store -o FILE`: median {m_ours * 1e3:.0f} ms over {args.runs}")
    print(f"`... --python PY` (a child):            median {m_remote * 1e3:.0f} ms")
    print(f"`pip freeze` (same interpreter):        median {m_pip * 1e3:.0f} ms over {args.runs}")
    print(f"ratio: envparity is {m_pip / m_ours:.2f}x faster than pip freeze")
    print(f"ratio: --python is {m_pip / m_remote:.2f}x faster than pip freeze")
    return 0


if __name__ == "__main__":
    sys.exit(main())
