"""Parity probes end to end: the same inputs must give the same outputs in both environments.

- :mod:`.encode` -- a probe's output (number, array, table, DataFrame) as one canonical encoding,
  stored whole (compressed, capped) and keyed by its sha256.
- :mod:`.compare` -- element-wise comparison (NumPy ``isclose`` rule, exact for integers, strings
  and categories), a per-column report, plain finding dicts for the drift engine.
- :mod:`.conventions` -- built-in probes of the classic conventions (time zone, locale, hash
  seed, NumPy promotion, pandas defaults), each naming the setting that explains it.
- :mod:`.loading` -- importing the user's probe modules (``--probes``, ``[tool.envparity]
  probes``) and running them for ``envparity parity`` and the pytest plugin.

Nothing here imports NumPy or pandas at import time.
"""
