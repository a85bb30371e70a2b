"""Deprecated name of :mod:`envparity.comparison`: use ``envparity.compare`` (the public API).

``from envparity.diff import diff`` keeps working for one minor release, with a
DeprecationWarning naming the replacement.
"""

from __future__ import annotations

import warnings
from typing import Any

_MOVED = {"diff": "compare", "reaches": "reaches", "sort_key": "sort_key",
          "snapshot_data": "snapshot_data"}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'envparity.diff' has no attribute {name!r}")
    new = _MOVED[name]
    where = "envparity.compare" if name == "diff" else f"envparity.comparison.{new}"
    warnings.warn(
        f"envparity.diff.{name} is deprecated and goes away in the next minor release; "
        f"use {where}",
        DeprecationWarning,
        stacklevel=2,
    )
    from . import comparison

    return getattr(comparison, new)
