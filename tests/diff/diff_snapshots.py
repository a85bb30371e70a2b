"""Snapshots for drift tests: one realistic baseline, and a way to change one field of it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

from envparity.comparison import compare as diff
from envparity.model import (
    BlasLibrary,
    CodeInfo,
    Collection,
    CpuInfo,
    Determinism,
    Gpu,
    GpuInfo,
    MemoryInfo,
    Package,
    PlatformInfo,
    PythonInfo,
    Seeds,
    Snapshot,
)

CAPTURED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def baseline() -> Snapshot:
    """A training environment with something in every category."""
    return Snapshot(
        snapshot_id="b" * 32,
        captured_at=CAPTURED,
        role="training",
        labels={"model": "fraud"},
        packages=[
            Package(name="numpy", version="1.26.4", installer="pip", location="/a/site"),
            Package(name="pandas", version="2.2.1", installer="pip", location="/a/site"),
            Package(name="pip", version="24.0", installer="pip", location="/a/site"),
            Package(name="scikit-learn", version="1.4.2", installer="pip", location="/a/site"),
            Package(name="torch", version="2.3.1+cpu", installer="pip", location="/a/site"),
        ],
        python=PythonInfo(
            implementation="CPython", version="3.11.7", executable="/a/bin/python", prefix="/a"
        ),
        platform=PlatformInfo(
            system="Linux",
            kernel="6.1.0",
            arch="x86_64",
            os_id="debian",
            os_version="12",
            libc="glibc",
            libc_version="2.36",
            timezone="UTC",
            utc_offset_minutes=0,
            locale="C.UTF-8",
            preferred_encoding="UTF-8",
            filesystem_encoding="utf-8",
            hostname="trainer-1",
            pid=4242,
            container_id="c0ffee",
        ),
        cpu=CpuInfo(
            vendor="GenuineIntel",
            model="Xeon 8480",
            logical_cores=8,
            physical_cores=4,
            affinity_cores=8,
            usable_cores=8,
            flags=["avx", "avx2", "avx512f", "fma", "sse4_2"],
        ),
        memory=MemoryInfo(total_bytes=64 * 2**30),
        gpus=GpuInfo(
            state="ok",
            driver_version="550.54",
            cuda_driver_version="12.4",
            devices=[
                Gpu(
                    name="NVIDIA A100",
                    memory_bytes=80 * 2**30,
                    compute_capability="8.0",
                    index=i,
                    uuid=f"GPU-{i}",
                    pci_bus_id=f"0000:0{i}:00.0",
                )
                for i in range(2)
            ],
        ),
        blas=[
            BlasLibrary(
                key="numpy/blas",
                owner="numpy",
                user_api="blas",
                internal_api="openblas",
                prefix="libopenblas",
                version="0.3.27",
                threading_layer="pthreads",
                architecture="SkylakeX",
                num_threads=8,
                filepath="/a/site/numpy.libs/libopenblas.so",
            )
        ],
        determinism=Determinism(
            env={"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "8"},
            frameworks={
                "torch": {
                    "version": "2.3.1+cpu",
                    "cudnn.benchmark": False,
                    "deterministic_algorithms": True,
                    "num_threads": 8,
                }
            },
        ),
        seeds=Seeds(declared={"global": 42}, state_digests={"random": "abc"}),
        code=CodeInfo(commit="1" * 40, branch="main", dirty=False),
        env={"LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0,1"},
        collection=Collection(envparity_version="0.1.0", durations_ms={"packages": 3.0}),
    ).with_fingerprint()


def changed(snap: Snapshot, path: str, value: Any) -> Snapshot:
    """A copy of ``snap`` with the field at dotted ``path`` (e.g. ``platform.timezone``) set."""
    head, _, rest = path.partition(".")
    if not rest:
        return snap.model_copy(update={head: value})
    return snap.model_copy(update={head: changed(getattr(snap, head), rest, value)})


def with_package(snap: Snapshot, name: str, version: Any) -> Snapshot:
    """A copy with package ``name`` at ``version`` (None removes it; a new name adds it)."""
    pkgs = [p for p in snap.packages if p.name != name]
    if version is not None:
        pkgs.append(Package(name=name, version=version, installer="pip"))
    return snap.model_copy(update={"packages": sorted(pkgs, key=lambda p: p.name)})


def found(a: Snapshot, b: Snapshot, **kw: Any) -> List[Tuple[str, str, str]]:
    """``diff(a, b)`` as (severity, "category:key", change) triples, in report order."""
    return [(f.severity, f"{f.category}:{f.key}", f.change) for f in diff(a, b, **kw).findings]


def by_key(a: Snapshot, b: Snapshot, **kw: Any) -> Dict[str, Any]:
    """``diff(a, b)``'s findings keyed by "category:key"."""
    return {f"{f.category}:{f.key}": f for f in diff(a, b, **kw).findings}


def cli_runner() -> Any:
    """A CliRunner whose result has ``stdout`` and ``stderr`` apart, on old and new Click."""
    from typer.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # Click < 8.2
    except TypeError:
        return CliRunner()  # Click 8.2+ and Typer's own: always apart
