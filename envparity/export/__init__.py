"""Export a snapshot's Python distributions so the environment can be reproduced.

``export(snapshot, fmt)`` is the one entry point; each format is an
:class:`~envparity.export.interface.Exporter` in its own module, imported when used:
``requirements`` and ``constraints`` (pip), ``pylock`` (PEP 751) and ``cyclonedx`` (an SBOM).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Optional, Sequence

from ..errors import BadInput
from .interface import Exporter, ExportError, Selection, is_tool, select

if TYPE_CHECKING:
    from ..model import Snapshot

# --format name -> (module, class)
_FORMATS = {
    "requirements": ("requirements", "RequirementsExporter"),
    "constraints": ("requirements", "ConstraintsExporter"),
    "pylock": ("pylock", "PylockExporter"),
    "cyclonedx": ("cyclonedx", "CycloneDxExporter"),
}
FORMATS = tuple(_FORMATS)

__all__ = ["FORMATS", "ExportError", "Exporter", "Selection", "export", "is_tool", "select"]


def export(
    snapshot: Snapshot,
    fmt: str = "requirements",
    *,
    ref: str = "",
    include_tool: bool = False,
    candidate: Optional[Snapshot] = None,
    candidate_ref: Optional[str] = None,
    find_links: Sequence[str] = (),
    index_urls: Sequence[str] = (),
) -> str:
    """``snapshot``'s distributions as a file in ``fmt``.

    ``candidate`` keeps only what it must change to match ``snapshot``; ``find_links`` and
    ``index_urls`` are where ``pylock`` looks for wheels (default: pip's configuration), and
    with ``find_links`` ``requirements`` pins a package installed from one archive file by
    version rather than naming that file.
    """
    if fmt not in _FORMATS:
        raise BadInput(f"--format {fmt!r}: unknown format; choose one of {', '.join(FORMATS)}")
    selection = select(
        snapshot,
        ref=ref or snapshot.snapshot_id,
        include_tool=include_tool,
        candidate=candidate,
        candidate_ref=candidate_ref,
    )
    module, cls = _FORMATS[fmt]
    exporter_cls: Any = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    if fmt == "pylock":
        exporter: Exporter = exporter_cls(find_links, index_urls)
    elif fmt == "requirements":
        exporter = exporter_cls(find_links)
    else:
        exporter = exporter_cls()
    return exporter.render(selection)
