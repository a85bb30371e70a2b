"""Microbenchmarks and numeric probes: what an environment difference costs in speed and results.

- :mod:`.registry` -- ``register_benchmark`` / ``register_probe`` for the user's own code.
- :mod:`.suite` -- the built-in benchmarks (pure Python always; NumPy and torch where installed).
- :mod:`.runner` -- ``run_suite``: fresh worker processes (:mod:`.worker`), shuffled rounds.
- :mod:`.stats` -- bootstrap over processes then samples, rank test, verdicts.
- :mod:`.numerics` -- fixed computations on fixed inputs, recorded as digests plus samples.
- :mod:`.compare` -- ``compare_benchmarks`` and ``numeric_findings`` for ``diff``.

Nothing here imports NumPy or torch at import time.
"""

from __future__ import annotations

from .registry import register_benchmark, register_probe

__all__ = ["register_benchmark", "register_probe"]
