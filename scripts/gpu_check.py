"""One short run on a real GPU machine: the NVML probe and the torch/CUDA benchmark paths.

Prints what it saw and exits 1 when something that should work on a GPU machine did not:
NVML found no GPU, torch sees no CUDA, a CUDA benchmark did not run, its timing or its memory
peak is missing, or the same environment compared with itself called a CUDA benchmark
different. Under five minutes (quick suite, a few worker processes).

GPU machines here have no network. Use the torch already installed there, and bring
envparity's own dependencies as wheels, built on a machine with network::

    pip wheel -w wheels .  pydantic typer rich sqlalchemy alembic threadpoolctl nvidia-ml-py
    # on the GPU machine, next to the torch it has:
    python -m venv --system-site-packages /tmp/ep && /tmp/ep/bin/pip install --no-index \\
        --find-links wheels envparity
    /tmp/ep/bin/python scripts/gpu_check.py

From a checkout, ``PYTHONPATH=. python scripts/gpu_check.py`` works too when the dependencies
are already importable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    problems: List[str] = []
    started = time.perf_counter()

    import envparity
    from envparity.bench.compare import compare_benchmarks, conditions_line
    from envparity.bench.runner import run_against, run_suite

    print(f"python {sys.version.split()[0]} at {sys.executable}; envparity {envparity.__version__}")
    try:
        import torch

        print(
            f"torch {torch.__version__}, CUDA build {torch.version.cuda}, "
            f"cuda.is_available() {torch.cuda.is_available()}"
        )
        if torch.cuda.is_available():
            print(f"  device 0: {torch.cuda.get_device_name(0)}")
        else:
            problems.append("torch sees no CUDA device")
    except ImportError as e:
        problems.append(f"torch is not importable: {e}")

    # 1. The NVML probe, through a real snapshot (the path `envparity snapshot` takes).
    snap = envparity.snapshot()
    gpus = snap.gpus.model_dump(mode="json")
    print("NVML probe (snapshot.gpus):")
    print(json.dumps(gpus, indent=2, sort_keys=True))
    print("accelerator:", json.dumps(snap.accelerator.model_dump(mode="json"), sort_keys=True))
    errors = [e for e in snap.collection.errors if "gpu" in e.probe.lower()]
    for e in errors:
        print(f"  probe error: {e.probe}: {e.message}")
    if not gpus.get("devices"):
        problems.append(f"NVML reported no GPU (state: {gpus.get('state')})")

    # 2. The torch/CUDA benchmarks in real workers, with their conditions and memory peaks.
    run, numerics = run_suite("quick", numerics=True, processes=args.processes)
    print(f"quick suite: {run.processes} workers, {run.wall_seconds:.1f} s")
    print(f"  conditions: {conditions_line(run)}")
    for r in run.results:
        if r.name.startswith("torch_"):
            med = min((sorted(s)[len(s) // 2] for s in r.samples if s), default=None)
            print(
                f"  {r.name:<20} {r.status:<8} fastest process median {med!r} s, "
                f"peaks {r.peaks_bytes} B {r.reason or ''}"
            )
            if r.name.startswith("torch_cuda"):
                if r.status != "ok":
                    problems.append(f"{r.name} {r.status}: {r.reason}")
                elif not r.peaks_bytes:
                    problems.append(f"{r.name}: no GPU memory peak recorded")
    for n in numerics or []:
        if n.name.startswith("torch"):
            print(f"  probe {n.name:<18} {n.status:<8} {n.sha256 or n.reason}")

    # 3. The same environment against itself, interleaved: CUDA benchmarks never "different".
    a, b = run_against(sys.executable, "quick", processes=max(8, args.processes))
    for c in compare_benchmarks(a, b):
        if c.name.startswith("torch"):
            print(f"  A/A {c.name:<20} {c.verdict:<12} memory {c.memory_verdict}: {c.why}")
            if c.verdict in ("faster", "slower"):
                problems.append(f"A/A called {c.name} {c.verdict}")
    print(f"took {time.perf_counter() - started:.0f} s")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
