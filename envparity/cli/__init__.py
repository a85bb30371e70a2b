"""The command line: a thin Typer shell over the library. The only place with argv and exit codes.

One module per command group registers its commands on the Typer ``app``. ``main`` imports only
the module of the command being run: the serving hook (``envparity run``) and ``envparity
snapshot`` should not pay for importing every other command's code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Dict, Sequence, Tuple

MODULES: Tuple[str, ...] = (
    "snapshot",
    "store",
    "diff",
    "bench",
    "run",
    "parity",
    "export",
    "prune",
    "bisect",
    "recipe",
)

# Command -> the modules that register it (`db flush` lives with the hook).
COMMANDS: Dict[str, Tuple[str, ...]] = {
    "snapshot": ("snapshot",),
    "list": ("store",),
    "show": ("store",),
    "tag": ("store",),
    "db": ("store", "run", "prune"),
    "diff": ("diff",),
    "check": ("diff",),
    "bench": ("bench",),
    "run": ("run",),
    "fleet": ("run",),
    "export": ("export",),
    "schema": ("export",),
    "recipe": ("recipe",),
    "parity": ("diff", "parity"),
    "bisect": ("bisect",),
}

# Commands with a Typer-free fast path in :mod:`._lean` (a function of the same name).
_LEAN = ("run", "snapshot", "fleet")

__all__ = ["COMMANDS", "MODULES", "app", "load", "main"]


def load(modules: Sequence[str] = MODULES) -> Any:
    """Register the commands of ``modules`` and return the Typer app."""
    for name in modules:
        importlib.import_module(f"{__name__}.{name}")
    from ._app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole CLI, as tests and documentation tools expect
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    words = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    command = words[0] if words else ""
    if command in _LEAN and sys.argv[1:2] == [command]:
        # `run` (every container start), `snapshot --no-store` (image builds, CI) and `fleet`
        # (dashboards, scrapes): a plain command line needs no Typer, and runs the same code as
        # the Typer command (see _lean); anything else falls through to Typer.
        from . import _lean

        code = getattr(_lean, command)(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    load(COMMANDS.get(command, MODULES))()
