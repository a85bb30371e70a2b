"""The serving start-up hook: check the environment against its baseline, never break the server.

``envparity run -- CMD`` (:func:`run`) and ``envparity.startup_check()`` (:func:`startup_check`)
snapshot this environment, store it (or spool it when the store cannot be reached), compare it with
the baseline (cached locally for restarts with the database down), and log one summary line and
one JSON line, all within a time budget. ``envparity db flush`` (:func:`flush`) replays the spool.
"""

from __future__ import annotations

from .config import HookConfig, load_config
from .spool import FlushResult, flush, spool, spooled
from .startup import CommandNotStarted, exec_command, run, startup_check

__all__ = [
    "CommandNotStarted",
    "FlushResult",
    "HookConfig",
    "exec_command",
    "flush",
    "load_config",
    "run",
    "spool",
    "spooled",
    "startup_check",
]
