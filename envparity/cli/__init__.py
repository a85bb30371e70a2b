"""The command line: a thin Typer shell over the library. The only place with argv and exit codes.

One module per command group registers its commands on ``app``.
"""

from __future__ import annotations

from . import bench, diff, snapshot, store  # noqa: F401  (registers commands)
from . import run  # noqa: F401  (registers run, fleet, db flush)
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
