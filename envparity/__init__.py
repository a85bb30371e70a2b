"""envparity: fingerprint the environment a model runs in, store it, and explain the drift.

``import envparity`` is cheap on purpose (the serving start-up hook pays for every import): names
are loaded on first use, and nothing heavy (SQLAlchemy, Typer, Rich, NumPy, torch) is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

from .seeding import record_seed, seed_everything

__version__ = "0.1.0"

__all__ = [
    "Snapshot",
    "__version__",
    "record_seed",
    "register_benchmark",
    "register_probe",
    "seed_everything",
    "snapshot",
    "startup_check",
]

if TYPE_CHECKING:
    from .hook import startup_check
    from .model import Snapshot

# name -> module that defines it, imported on first access.
_LAZY = {
    "Snapshot": "envparity.model",
    "register_benchmark": "envparity.bench.registry",
    "register_probe": "envparity.bench.registry",
    "startup_check": "envparity.hook",
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
    ``numerics=True`` also records the built-in and convention probes.

    Taken in-process, it records which installed distributions this process has loaded; with
    ``model="model.pkl"`` (or a list; default ``ENVPARITY_MODEL``, then ``[tool.envparity]
    model``) also what the model artifacts need, read without loading them. Both decide which
    later differences can reach the model (docs/relevance.md).
    """
    from .collect.capture import capture
    from .relevance.record import policy_models

    modules: List[str] = []
    if probes is not None and probes is not False:
        from .parity.loading import import_probes, policy_probes

        if probes is True:
            modules = policy_probes()
        else:
            modules = [probes] if isinstance(probes, str) else list(probes)
        import_probes(modules, source="snapshot(probes=...)")
    models = [model] if isinstance(model, str) else list(model or [])
    options.setdefault("loaded", not options.get("python"))
    snap = capture(role=role, labels=labels, models=models or policy_models(), **options)
    if numerics or (probes is not None and probes is not False):
        from .bench.numerics import run_numerics

        snap = snap.model_copy(update={"numerics": run_numerics(builtin=bool(numerics))})
    return snap


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'envparity' has no attribute {name!r}")
