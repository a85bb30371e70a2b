"""Severities, their order and the fail-on threshold: defined once, stdlib only.

A leaf module (stdlib only, imports nothing of envparity): imported by the model, the drift
engine, the policy, the fleet view, the start-up hook, the CLI and every renderer, so that
"what fails" means the same everywhere.
"""

from __future__ import annotations

from typing import Dict, Literal, Tuple, get_args

#: Finding severities, ascending.
SEVERITIES: Tuple[str, ...] = ("info", "warning", "error")
#: Accepted fail-on thresholds: a severity, or never.
FAIL_ON: Tuple[str, ...] = SEVERITIES + ("never",)
#: A report's verdict: its highest severity, or none.
VERDICTS: Tuple[str, ...] = ("none",) + SEVERITIES
#: Policy overrides: a severity, or ignore.
OVERRIDES: Tuple[str, ...] = SEVERITIES + ("ignore",)

#: Rank of a verdict or severity: none 0, info 1, warning 2, error 3.
RANK: Dict[str, int] = {name: i for i, name in enumerate(VERDICTS)}


def reaches(verdict: str, fail_on: str) -> bool:
    """True when a report (or finding) of severity ``verdict`` fails at ``fail_on``."""
    if fail_on == "never" or verdict == "none":
        return False
    return RANK[verdict] >= RANK[fail_on]


def verdict_of(counts: Dict[str, int]) -> str:
    """The highest severity with a non-zero count, or ``none``."""
    return next((s for s in reversed(SEVERITIES) if counts.get(s)), "none")


#: Finding categories, in report order (collection holds probe errors): the model's field type
#: and the engine's sort order are this one list.
Category = Literal[
    "collection",
    "package",
    "python",
    "platform",
    "cpu",
    "memory",
    "gpu",
    "accelerator",
    "blas",
    "determinism",
    "seed",
    "env",
    "code",
    "numerics",
    "benchmark",
    "policy",
]
CATEGORIES: Tuple[str, ...] = get_args(Category)
