"""Benchmark the drift report: in-process diff of two 2,000-package snapshots, and the CLI.

    .venv/bin/python scripts/bench_diff.py [--packages 2000] [--repeat 31] [--cli-repeat 11]

Prints medians. Targets (issue 4): in-process diff under 20 ms; ``envparity diff a.json b.json``
end to end (a child process: interpreter start, imports, two file loads, diff, render) under
300 ms. The candidate differs from the baseline in about a tenth of its packages plus a few
determinism and platform fields, so the report is realistic rather than empty.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envparity.comparison import compare as diff  # noqa: E402
from envparity.model import (  # noqa: E402
    Collection,
    CpuInfo,
    Determinism,
    ModelArtifact,
    Package,
    PlatformInfo,
    PythonInfo,
    Relevance,
    Snapshot,
)


def make_pair(n: int):
    """Two snapshots with ``n`` packages each; the candidate has drift of every package kind."""
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    base_pkgs = [
        Package(name=f"pkg-{i:05d}", version=f"{i % 7}.{i % 11}.{i % 13}") for i in range(n)
    ]
    cand_pkgs: List[Package] = []
    for i, p in enumerate(base_pkgs):
        if i % 50 == 0:
            continue  # removed
        if i % 40 == 1:
            p = p.model_copy(update={"version": f"{i % 7 + 1}.0.0"})  # major
        elif i % 40 == 2:
            p = p.model_copy(update={"version": f"{i % 7}.{i % 11 + 1}.0"})  # minor
        elif i % 40 == 3:
            p = p.model_copy(update={"version": p.version + "+cu121"})  # local label
        cand_pkgs.append(p)
    cand_pkgs += [Package(name=f"zz-new-{i}", version="1.0") for i in range(n // 100)]

    def snap(pkgs: List[Package], sid: str, **kw) -> Snapshot:
        return Snapshot(
            snapshot_id=sid,
            captured_at=now,
            packages=pkgs,
            python=PythonInfo(implementation="CPython", version=kw.pop("py", "3.11.7")),
            collection=Collection(envparity_version="0.1.0"),
            **kw,
        ).with_fingerprint()

    flags = ["avx", "avx2", "avx512f", "fma", "sse4_2"]
    a = snap(base_pkgs, "a" * 32, platform=PlatformInfo(timezone="UTC"), cpu=CpuInfo(flags=flags))
    b = snap(
        cand_pkgs,
        "b" * 32,
        py="3.11.9",
        platform=PlatformInfo(timezone="Europe/Berlin"),
        cpu=CpuInfo(flags=flags[:2]),
        determinism=Determinism(env={"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "4"}),
    )
    return a, b


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def median_cpu_ms(fn, repeat: int) -> float:
    """CPU time: on a shared machine wall time also counts waiting for a core."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--cli-repeat", type=int, default=11)
    args = parser.parse_args()

    a, b = make_pair(args.packages)
    diff(a, b)  # warm-up: lazy imports (packaging) are not what is measured
    report = diff(a, b)
    same = median_ms(lambda: diff(a, a), args.repeat)
    drift = median_ms(lambda: diff(a, b), args.repeat)
    same_cpu = median_cpu_ms(lambda: diff(a, a), args.repeat)
    drift_cpu = median_cpu_ms(lambda: diff(a, b), args.repeat)
    print(
        f"diff in-process, {args.packages} packages, identical: median {same:.2f} ms wall, "
        f"{same_cpu:.2f} ms CPU (target < 20 ms)"
    )
    print(
        f"diff in-process, {args.packages} packages, {len(report.findings)} findings: "
        f"median {drift:.2f} ms wall, {drift_cpu:.2f} ms CPU (target < 20 ms)"
    )
    # The worst case: every package changed (one finding each, every version parsed).
    every = b.model_copy(
        update={
            "packages": [p.model_copy(update={"version": p.version + ".1"}) for p in a.packages]
        }
    )
    worst_report = diff(a, every)
    worst = median_ms(lambda: diff(a, every), args.repeat)
    print(
        f"diff in-process, all {args.packages} packages changed, {len(worst_report.findings)} "
        f"findings: median {worst:.2f} ms (no target; the realistic case is above)"
    )
    # Relevance known (issue 24): a model needing a tenth of the packages; the rest is capped
    # at info and folded into grouped findings.
    needs = {p.name: "pkg.Model" for p in a.packages[:: 10]}
    rel = Relevance(
        loaded=[p.name for p in a.packages[5::20]],
        models=[ModelArtifact(path="model.pkl", kind="pickle", needs=needs)],
    )
    ar = a.model_copy(update={"relevance": rel})
    rel_report = diff(ar, b)
    relevant = median_ms(lambda: diff(ar, b), args.repeat)
    relevant_cpu = median_cpu_ms(lambda: diff(ar, b), args.repeat)
    print(
        f"diff in-process, {args.packages} packages, relevance known, "
        f"{len(rel_report.findings)} findings: median {relevant:.2f} ms wall, "
        f"{relevant_cpu:.2f} ms CPU (target < 20 ms)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        Path(pa).write_text(a.model_dump_json(), encoding="utf-8")
        Path(pb).write_text(b.model_dump_json(), encoding="utf-8")
        cmd = [sys.executable, "-m", "envparity", "diff", pa, pb, "--format", "json"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))

        def cli() -> None:
            r = subprocess.run(cmd, capture_output=True, env=env, cwd=tmp, check=False)
            assert r.returncode == 1, r.stderr  # the drift has errors: exit 1

        cli()
        cpu: List[float] = []

        def timed_cli() -> None:
            # The child's CPU time as well as wall time: on a shared machine (other jobs on the
            # cores) wall time also counts waiting for a core, CPU time does not.
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)

        end_to_end = median_ms(timed_cli, args.cli_repeat)
        print(
            f"envparity diff a.json b.json --format json, end to end: median {end_to_end:.1f} ms "
            f"wall, {statistics.median(cpu):.1f} ms CPU (target < 300 ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
