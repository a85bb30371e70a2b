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
    if sys.argv[1:2] == ["run"]:
        # The serving entrypoint: a well-formed command line needs no Typer (see _lean).
        from ._lean import run

        code = run(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    elif sys.argv[1:2] in (["snapshot"], ["fleet"]):
        # `snapshot --no-store` (image builds, CI) and `fleet` (dashboards, scrapes): the same
        # code as their Typer commands, without importing Typer when the command line is plain.
        from . import _lean

        code = getattr(_lean, sys.argv[1])(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    load(COMMANDS.get(command, MODULES))()
