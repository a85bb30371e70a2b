"""``envparity bisect``: which of the differences between a baseline and here causes a symptom.

classify (sort drift findings into restorable and untestable), overlay (baseline versions in a
temporary directory), trial (one child process per trial), ddmin (the search), symptom (probe and
benchmark comparison), core (``bisect``), model (the report) and render (text, Markdown, JSON).
Nothing heavy is imported until used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bisect"]


def __getattr__(name: str) -> Any:
    if name == "bisect":
        from .core import bisect

        return bisect
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
