"""Renderers of a drift report: text, json, markdown, junit, html, github.

``render(report, fmt)`` is the one entry point; each format is a
:class:`~envparity.report.interface.Renderer` in its own module, imported when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Optional

from ..errors import BadInput

if TYPE_CHECKING:
    from ..model import DriftReport

# --format name -> (module, class)
_FORMATS = {
    "text": ("text", "TextRenderer"),
    "json": ("json", "JsonRenderer"),
    "markdown": ("markdown", "MarkdownRenderer"),
    "junit": ("junit", "JunitRenderer"),
    "html": ("html", "HtmlRenderer"),
    "github": ("github", "GithubRenderer"),
}
FORMATS = tuple(_FORMATS)

__all__ = ["FORMATS", "check_format", "render"]


def check_format(fmt: str) -> str:
    """``fmt`` if it is a known format, else a BadInput listing the known ones."""
    if fmt not in _FORMATS:
        raise BadInput(f"--format {fmt!r}: unknown format; choose one of {', '.join(FORMATS)}")
    return fmt


def render(report: DriftReport, fmt: str, *, max_bytes: Optional[int] = None) -> str:
    """The report as a document in ``fmt`` (text, json, markdown, junit, html or github).

    ``max_bytes`` caps the Markdown (default 1 MiB, GitHub's step-summary limit); the other
    formats are always complete.
    """
    module, cls = _FORMATS[check_format(fmt)]
    renderer_cls = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    renderer = renderer_cls(max_bytes) if fmt == "markdown" else renderer_cls()
    return str(renderer.render(report))
