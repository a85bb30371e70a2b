"""How counts and tables are written, once for every command (stdlib only: the hook uses it).

``count(4, "warning")`` is ``4 warnings`` everywhere: the CLI, the reports, the fleet view and the
start-up hook's log line. Tables are laid out by measured widths, so a long role or label widens
its column instead of shifting the next ones; cells are shown as given (no markup language is
interpreted: ``[bold]`` in a label prints as ``[bold]``).
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

# Nouns whose plural is not noun + "s".
_PLURALS: Dict[str, str] = {"info": "info", "environment group": "environment groups"}

def plural(noun: str, n: int) -> str:
    """``noun`` for one, its plural otherwise."""
    if n == 1:
        return noun
    return _PLURALS.get(noun, noun + "s")


def count(n: int, noun: str) -> str:
    """``1 error``, ``4 warnings``, ``0 snapshots``, ``2 info``."""
    return f"{n} {plural(noun, n)}"


def severity_counts(counts: Mapping[str, int], *, zeros: bool = False) -> str:
    """``1 error, 4 warnings, 2 info``: errors first; zero counts only with ``zeros``."""
    from .severity import SEVERITIES  # the one list of severities (a leaf module)

    return ", ".join(
        count(counts.get(s, 0), s) for s in reversed(SEVERITIES) if zeros or counts.get(s, 0)
    )


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Optional[Sequence[int]] = None
) -> List[str]:
    """Lines of a plain table whose columns are as wide as their widest cell (``right``: the
    indexes of right-aligned columns); trailing spaces are stripped."""
    all_rows = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    aligned = set(right or ())
    lines = []
    for row in all_rows:
        cells = [
            cell.rjust(w) if i in aligned else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
