"""envparity: fingerprint the environment a model runs in, store it, and explain the drift.

``import envparity`` is cheap on purpose (the serving start-up hook pays for every import): names
are loaded on first use, and nothing heavy (SQLAlchemy, Typer, Rich, NumPy, torch) is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .seeding import record_seed, seed_everything

# The public API: what the documentation shows and what keeps its meaning between releases. Every
# other module is internal and may move.
__all__ = [
    "DriftReport",
    "Snapshot",
    "__version__",
    "compare",
    "load_policy",
    "open_store",
    "record_seed",
    "register_benchmark",
    "register_probe",
    "render",
    "resolve",
    "run_suite",
    "seed_everything",
    "snapshot",
    "startup_check",
]

if TYPE_CHECKING:
    from .bench.runner import run_suite
    from .comparison import compare
    from .hook import startup_check
    from .model import DriftReport, Snapshot
    from .policy import load_policy
    from .refs import resolve
    from .report import render
    from .store import open_store

# name -> (module that defines it, its name there), imported on first access.
_LAZY = {
    "DriftReport": ("envparity.model", "DriftReport"),
    "Snapshot": ("envparity.model", "Snapshot"),
    "compare": ("envparity.comparison", "compare"),
    "load_policy": ("envparity.policy", "load_policy"),
    "open_store": ("envparity.store", "open_store"),
    "register_benchmark": ("envparity.bench.registry", "register_benchmark"),
    "register_probe": ("envparity.bench.registry", "register_probe"),
    "render": ("envparity.report", "render"),
    "resolve": ("envparity.refs", "resolve"),
    "run_suite": ("envparity.bench.runner", "run_suite"),
    "startup_check": ("envparity.hook", "startup_check"),
}


def snapshot(
    role: str = "",
    labels: Any = None,
    *,
    probes: Any = None,
    numerics: bool = False,
    model: Any = None,
    **options: Any,
) -> Snapshot:
    """Capture this environment as a :class:`Snapshot` (see ``envparity.collect.capture``).

    ``probes=True`` records the parity probes registered in this process and those of
    ``[tool.envparity] probes``; ``probes=["mypkg.parity", ...]`` imports those modules first.
    ``numerics=True`` also records the built-in and convention probes. Other options
    (``python``, ``frameworks``, ``suite``, ``callables``) are those of
    :class:`envparity.pipeline.SnapshotRequest`; measuring anything with ``python=`` (another
    interpreter) is a :class:`~envparity.errors.BadInput`.

    Taken in-process, it records which installed distributions this process has loaded; with
    ``model="model.pkl"`` (or a list; default ``ENVPARITY_MODEL``, then ``[tool.envparity]
    model``) also what the model artifacts need, read without loading them. Both decide which
    later differences can reach the model (docs/relevance.md).
    """
    from .pipeline import SnapshotRequest, modules_for, take
    from .relevance.record import policy_models

    models = [model] if isinstance(model, str) else list(model or [])
    options.setdefault("loaded", not options.get("python"))
    return take(
        SnapshotRequest(
            role=role,
            labels=labels or {},
            numerics=True if numerics else None,
            probe_modules=tuple(modules_for(probes)),
            probes=probes is not None and probes is not False,
            probe_source="snapshot(probes=...)",
            models=tuple(models or policy_models()),
            **options,
        )
    )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'envparity' has no attribute {name!r}")
