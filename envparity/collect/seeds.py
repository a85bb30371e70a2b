"""Declared seeds, and digests of the in-process random states of random, NumPy and torch."""

from __future__ import annotations

import hashlib
import random
import sys
from typing import Any, Dict

from ..seeding import declared
from .interface import Context

PROBE = "seeds"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def collect(ctx: Context) -> Dict[str, Any]:
    digests: Dict[str, str] = {"random": _digest(repr(random.getstate()).encode())}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            digests["numpy"] = _digest(repr(numpy.random.get_state(legacy=True)).encode())
        except Exception as e:
            ctx.fail(PROBE, f"numpy random state: {e}")
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            digests["torch"] = _digest(bytes(torch.random.get_rng_state().numpy().tobytes()))
        except Exception as e:
            ctx.fail(PROBE, f"torch random state: {e}")
    return {"seeds": {"declared": declared(), "state_digests": digests}}
