"""Declared seeds: ``seed_everything`` and ``record_seed``, read back by the seeds probe.

Light on purpose: part of ``import envparity``. NumPy and torch are seeded only when they are
already imported; envparity never imports them to do it.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Dict, Union

SeedValue = Union[int, str]

_declared: Dict[str, SeedValue] = {}

# PYTHONHASHSEED as it was when envparity was imported: the hash seed probe's fallback where the
# start-up environment (/proc/self/environ) cannot be read.
STARTUP_HASHSEED = os.environ.get("PYTHONHASHSEED")


def record_seed(name: str, value: SeedValue) -> None:
    """Declare a seed your code set itself, so that snapshots record and compare it."""
    if not isinstance(name, str) or not name:
        raise ValueError("record_seed: name must be a non-empty string")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"record_seed({name!r}): value must be an int or a str")
    _declared[name] = value


def seed_everything(seed: int) -> None:
    """Seed ``random``, and NumPy and torch where already imported; record each seed.

    Also sets PYTHONHASHSEED for child processes started later. It cannot change this
    interpreter's own hash seed, which is fixed when Python starts: start the process with
    ``PYTHONHASHSEED=<n>`` for that. Snapshots record the seed in effect
    (``determinism.hash_seed``), never this later value.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError("seed_everything: seed must be an int")
    random.seed(seed)
    record_seed("random", seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)
        record_seed("numpy", seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        record_seed("torch", seed)


def declared() -> Dict[str, SeedValue]:
    """The seeds declared so far in this process."""
    return dict(_declared)
