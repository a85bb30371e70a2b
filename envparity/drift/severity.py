"""Compatibility name for :mod:`envparity.severity`, where severities are defined (a leaf module,
so that the model and the wording helpers do not depend on the drift engine)."""

from ..severity import (
    FAIL_ON,
    OVERRIDES,
    RANK,
    SEVERITIES,
    VERDICTS,
    reaches,
    verdict_of,
)

__all__ = ["FAIL_ON", "OVERRIDES", "RANK", "SEVERITIES", "VERDICTS", "reaches", "verdict_of"]
