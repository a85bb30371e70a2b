"""``envparity show --format report``: one snapshot as a paste-ready environment report for a bug
report, in the spirit of ``python -m torch.utils.collect_env``.

Plain text, one ``Key: value`` per line in sections (Python, OS, CPU, GPU and driver, BLAS,
threads, determinism, seeds, variables, packages), so that a maintainer reading an issue finds
what they would ask for. Every value comes from the snapshot and is neutralized (no ESC, CR or
bidi control reaches the terminal or the issue); the variables are the ones the snapshot kept,
already redacted at capture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional

from .escape import show, terminal

if TYPE_CHECKING:
    from ..model import Snapshot

__all__ = ["render"]

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def _or(value: Any, missing: str = "unknown") -> str:
    return missing if value is None or value == "" else show(value)


def _gib(n: Optional[int]) -> str:
    return "unknown" if n is None else f"{n / 2**30:.1f} GiB"


def _pairs(items: Dict[str, Any]) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in sorted(items.items())) or "none"


def _section(title: str, rows: Iterable[str]) -> List[str]:
    return ["", f"== {title} =="] + list(rows)


def render(snap: Snapshot) -> str:
    """The report, ending with a newline."""
    p, c, m, g, a = snap.platform, snap.cpu, snap.memory, snap.gpus, snap.accelerator
    py = snap.python
    env = dict(snap.env)
    env.update(snap.determinism.env)
    lines = [
        "envparity environment report",
        f"Snapshot: {snap.snapshot_id} (fingerprint {snap.fingerprint[:16]}, "
        f"captured {snap.captured_at.isoformat()}, envparity {snap.collection.envparity_version})",
        f"Role and labels: {snap.role or '-'}; {_pairs(dict(snap.labels))}",
    ]
    lines += _section("Python", [
        f"Python version: {py.implementation} {py.version}"
        + (" (free-threaded)" if py.gil_disabled else ""),
        f"Python build: {_or(py.build)}; compiler {_or(py.compiler)}",
        f"Python executable: {_or(py.executable)}",
        f"Virtualenv: {'yes' if py.virtualenv else 'no'}; conda env: {_or(py.conda_env, 'none')}",
    ])
    lines += _section("OS", [
        f"OS: {_or(p.os_name or p.system)} {_or(p.os_version, '')}".rstrip(),
        f"Kernel: {_or(p.system)} {_or(p.kernel)} ({_or(p.arch)})",
        f"libc: {_or(p.libc)} {_or(p.libc_version, '')}".rstrip(),
        f"Time zone: {_or(p.timezone)} (UTC offset {_or(p.utc_offset_minutes)} min); "
        f"locale {_or(p.locale)}; encoding {_or(p.preferred_encoding)}",
    ])
    lines += _section("CPU and memory", [
        f"CPU: {_or(c.model)} ({_or(c.vendor)})",
        f"Cores: {_or(c.logical_cores)} logical, {_or(c.physical_cores)} physical, "
        f"{_or(c.usable_cores)} usable (affinity {_or(c.affinity_cores)}, cgroup quota "
        f"{_or(c.cgroup_quota_cores, 'none')})",
        f"CPU flags: {len(c.flags)} (avx2 {'yes' if 'avx2' in c.flags else 'no'}, avx512f "
        f"{'yes' if 'avx512f' in c.flags else 'no'})",
        f"Memory: {_gib(m.total_bytes)} (cgroup limit "
        f"{_gib(m.cgroup_limit_bytes) if m.cgroup_limit_bytes else 'none'})",
    ])
    devices = [
        f"GPU {d.index}: {show(d.name)} ({_gib(d.memory_bytes)}, compute capability "
        f"{_or(d.compute_capability)})"
        for d in g.devices
    ]
    lines += _section("GPU and driver", [
        f"GPU state: {g.state}" + (f" ({show(g.detail)})" if g.detail else ""),
        f"Driver: {_or(g.driver_version, 'none')}; "
        f"CUDA driver API {_or(g.cuda_driver_version, 'none')}",
        *(devices or ["GPUs: none"]),
        f"CUDA runtime: {_or(a.cuda_runtime, 'none')}; cuDNN {_or(a.cudnn, 'none')}; "
        f"NCCL {_or(a.nccl, 'none')}",
    ])
    lines += _section("BLAS", [
        f"{show(b.internal_api)} {_or(b.version)} ({show(b.user_api)}; threading "
        f"{_or(b.threading_layer)}; architecture {_or(b.architecture)}; "
        f"{_or(b.num_threads)} threads; {show(b.prefix)})"
        for b in snap.blas
    ] or ["BLAS: none found"])
    lines += _section("Threads", [
        f"Usable cores: {_or(c.usable_cores)}; BLAS threads: "
        + (", ".join(f"{show(b.prefix)}={_or(b.num_threads)}" for b in snap.blas) or "none"),
        *(f"{name}={show(env[name])}" for name in _THREAD_VARS if name in env),
    ])
    d = snap.determinism
    lines += _section("Determinism", [
        f"Hash randomization: {_or(d.hash_randomization)}; "
        f"PYTHONHASHSEED {_or(d.hash_seed, 'unset')}",
        f"Variables: {_pairs(d.env)}",
        *(f"{fw}: {_pairs(dict(switches))}" for fw, switches in sorted(d.frameworks.items())),
    ])
    lines += _section("Seeds", [f"Declared: {_pairs(dict(snap.seeds.declared))}"])
    lines += _section("Variables", [f"{k}={show(v)}" for k, v in sorted(snap.env.items())]
                      or ["none captured"])
    lines += _section(f"Packages ({len(snap.packages)})",
                      [f"{pkg.name}=={pkg.version}" for pkg in snap.packages])
    if snap.collection.errors:
        lines += _section(f"Probe errors ({len(snap.collection.errors)})", [
            f"{e.probe}: {e.message}" for e in snap.collection.errors
        ])
    return "\n".join(terminal(line) for line in lines) + "\n"
