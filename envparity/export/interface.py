"""The exporter interface, the selection of packages every format shares, and the export error."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional

from ..errors import BadInput

if TYPE_CHECKING:
    from ..model import Package, Snapshot

# envparity's own distribution: a tool package (docs/design.md, "The snapshot") even where the
# snapshot predates the ``tool`` flag on packages.
_OWN = frozenset({"envparity"})


class ExportError(BadInput):
    """The baseline cannot be written in the asked format (e.g. a version no index has)."""


@dataclass(frozen=True)
class Selection:
    """What an export writes: the packages, and what the reader should know about them."""

    snapshot: Snapshot
    ref: str
    packages: List[Package]
    #: Packages the candidate has and the baseline does not (``--only-drift``): not expressible
    #: as requirements, listed for the reader to remove.
    extra: List[str] = field(default_factory=list)
    #: The candidate ref of ``--only-drift``, if any.
    candidate_ref: Optional[str] = None
    #: Tool packages left out.
    left_out: List[str] = field(default_factory=list)


def is_tool(package: Package) -> bool:
    """True for envparity's own packages (the ``tool`` flag, or envparity itself)."""
    return bool(getattr(package, "tool", False)) or package.name in _OWN


def _same_build(a: Package, b: Package) -> bool:
    content_a, content_b = getattr(a, "content", None), getattr(b, "content", None)
    if content_a and content_b:  # schema 3: the files, not the installer or archive URL
        return (a.version, content_a, a.vcs, a.commit, a.editable) == (
            b.version, content_b, b.vcs, b.commit, b.editable
        )
    return (a.version, a.vcs, a.url, a.commit, a.editable) == (
        b.version,
        b.vcs,
        b.url,
        b.commit,
        b.editable,
    )


def select(
    snapshot: Snapshot,
    *,
    ref: str,
    include_tool: bool = False,
    candidate: Optional[Snapshot] = None,
    candidate_ref: Optional[str] = None,
) -> Selection:
    """The baseline's packages to export, sorted by name.

    Without ``include_tool`` envparity's own packages are left out. With a ``candidate``, only the
    packages the candidate must change to match (missing there, or another version or origin).
    """
    chosen: List[Package] = []
    left_out: List[str] = []
    for p in sorted(snapshot.packages, key=lambda p: p.name):
        if not include_tool and is_tool(p):
            left_out.append(p.name)
        else:
            chosen.append(p)
    extra: List[str] = []
    if candidate is not None:
        theirs: Dict[str, Package] = {p.name: p for p in candidate.packages}
        chosen = [p for p in chosen if p.name not in theirs or not _same_build(p, theirs[p.name])]
        ours = {p.name for p in snapshot.packages}
        extra = sorted(
            p.name
            for p in candidate.packages
            if p.name not in ours and (include_tool or not is_tool(p))
        )
    return Selection(
        snapshot=snapshot,
        ref=ref,
        packages=chosen,
        extra=extra,
        candidate_ref=candidate_ref,
        left_out=left_out,
    )


def header(selection: Selection, comment: str = "#") -> List[str]:
    """Comment lines naming the baseline (and the candidate of ``--only-drift``)."""
    from .._version import __version__
    from ..report.escape import printable

    snap = selection.snapshot
    lines = [
        f"{comment} Exported by envparity {__version__} from baseline {_one_line(selection.ref)}",
        f"{comment} snapshot {snap.snapshot_id}, fingerprint {snap.fingerprint[:12]}, "
        f"Python {snap.python.version}, captured {snap.captured_at:%Y-%m-%d %H:%M:%S %Z}".rstrip(),
    ]
    if selection.candidate_ref is not None:
        lines.append(
            f"{comment} Only what {_one_line(selection.candidate_ref)} must change to match it"
        )
    # Everything in them comes from the snapshot: no newline may end the comment early.
    return [printable(line) for line in lines]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Exporter(abc.ABC):
    """Writes a :class:`Selection` as one file format."""

    #: The name given to ``--format``.
    name: str = ""

    @abc.abstractmethod
    def render(self, selection: Selection) -> str:
        """The whole file, ending with a newline."""
