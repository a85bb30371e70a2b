"""Synthetic snapshots for the store tests (also imported by the writer child processes).

Built by hand rather than captured, so they are fast, deterministic, and carry instance-only
values at every depth (package locations, GPU UUIDs, BLAS paths, RNG digests, benchmarks) that
a store must give back exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Dict, Optional

from envparity.model import (
    BenchmarkResult,
    BenchmarkRun,
    BlasLibrary,
    Collection,
    CpuInfo,
    Gpu,
    GpuInfo,
    NumericResult,
    Package,
    PlatformInfo,
    PythonInfo,
    Seeds,
    Snapshot,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_snapshot(
    *,
    env: int = 0,
    seq: int = 0,
    role: str = "serving",
    labels: Optional[Dict[str, str]] = None,
    host: str = "host-0",
    snapshot_id: Optional[str] = None,
    captured_at: Optional[datetime] = None,
    packages: int = 40,
) -> Snapshot:
    """A snapshot of environment number ``env`` (same env -> same fingerprint), sighting ``seq``."""
    pkgs = [
        Package(name=f"pkg{k:03d}", version=f"1.{k}.0", installer="pip", location="/venv/site")
        for k in range(packages)
    ]
    pkgs.append(Package(name="variant", version=f"{env}.0", location="/opt/other"))
    return Snapshot(
        snapshot_id=snapshot_id or uuid.uuid4().hex,
        captured_at=captured_at or T0 + timedelta(seconds=seq),
        role=role,
        labels=dict(labels if labels is not None else {"model": "fraud"}),
        packages=pkgs,
        python=PythonInfo(
            implementation="CPython",
            version="3.11.7",
            executable="/venv/bin/python",
            prefix="/venv",
            virtualenv=True,
        ),
        platform=PlatformInfo(
            system="Linux", kernel="6.1", arch="x86_64", hostname=host, pid=100 + seq
        ),
        cpu=CpuInfo(vendor="GenuineIntel", logical_cores=8, flags=["avx2", "fma"]),
        gpus=GpuInfo(
            state="ok",
            driver_version="550.54",
            devices=[
                Gpu(name="H100", index=i, uuid=f"GPU-{host}-{i}", pci_bus_id=f"0000:0{i}:00.0")
                for i in range(2)
            ],
        ),
        blas=[
            BlasLibrary(
                user_api="blas",
                internal_api="openblas",
                prefix="libopenblas",
                version="0.3.27",
                num_threads=8,
                filepath="/venv/site/numpy.libs/libopenblas.so",
            )
        ],
        seeds=Seeds(declared={"global": 42}, state_digests={"random": f"{seq:08x}"}),
        numerics=[NumericResult(name="sum", dtype="float64", shape=[3], values=[1.0, 2.5, -0.125])],
        benchmarks=BenchmarkRun(
            suite="quick",
            processes=2,
            wall_seconds=1.5,
            results=[BenchmarkResult(name="loop", samples=[[0.01, 0.012], [0.011]])],
        ),
        collection=Collection(envparity_version="0.1.0", durations_ms={"packages": 1.5}),
    ).with_fingerprint()
