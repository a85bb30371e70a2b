"""Microbenchmarks and numeric probes: what an environment difference costs in speed and results.

- :mod:`.registry` -- ``register_benchmark`` / ``register_probe`` for the user's own code.
- :mod:`.suite` -- the built-in benchmarks (pure Python always; NumPy and torch where installed).
- :mod:`.runner` -- ``run_suite``: fresh worker processes (:mod:`.worker`), shuffled rounds.
- :mod:`.stats` -- bootstrap over processes then samples, rank test, verdicts.
- :mod:`.numerics` -- fixed computations on fixed inputs, recorded as digests plus samples.
- :mod:`.compare` -- ``compare_benchmarks`` for ``diff`` (numeric probes: ``envparity.parity``).

Nothing here imports NumPy or torch at import time, and the registry only on first use: every
benchmark worker process imports this package and should not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["register_benchmark", "register_probe"]

if TYPE_CHECKING:
    from .registry import register_benchmark, register_probe


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
