"""envparity: fingerprint the environment a model runs in, store it, and explain the drift.

``import envparity`` is cheap on purpose (the serving start-up hook pays for every import): names
are loaded on first use, and nothing heavy (SQLAlchemy, Typer, Rich, NumPy, torch) is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def snapshot(role: str = "", labels: Any = None, **options: Any) -> Snapshot:
    """Capture this environment as a :class:`Snapshot` (see ``envparity.collect.capture``)."""
    from .collect.capture import capture

    return capture(role=role, labels=labels, **options)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'envparity' has no attribute {name!r}")
