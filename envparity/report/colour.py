"""Colour for the text report when a person reads it in a terminal (Rich, imported only then).

The text renderer's output is the document; this only styles its lines on the way to a TTY: the
verdict red or green, each severity heading and its findings in the severity's colour. Never when
stdout is not a terminal (logs, pipes, files get the plain bytes), never when ``NO_COLOR`` is set
to anything non-empty (https://no-color.org), never when ``TERM=dumb``.
"""

from __future__ import annotations

from typing import IO, List, Mapping, Optional

__all__ = ["wants_colour", "write"]

_HEADINGS = {"Errors": "bold red", "Warnings": "bold yellow", "Info": "bold blue",
             "Benchmarks": "bold"}
_FINDING = {"Errors": "red", "Warnings": "yellow", "Info": "", "Benchmarks": ""}


def wants_colour(stream: IO[str], environ: Mapping[str, str]) -> bool:
    """True when ``stream`` is a terminal and neither ``NO_COLOR`` nor ``TERM=dumb`` says no."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def write(text: str, stream: IO[str], environ: Mapping[str, str]) -> None:
    """Write the text report ``text`` to ``stream``: styled on a colour terminal, else as is."""
    if not wants_colour(stream, environ):
        stream.write(text)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, emoji=False, markup=False, soft_wrap=True,
                      force_terminal=True)
    section: Optional[str] = None
    lines: List[str] = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        style = ""
        head = line.split(" (", 1)[0]
        if i == 0 and line.startswith("envparity: "):
            style = "bold red" if "FAIL)" in line else "bold green"
        elif head in _HEADINGS and line.endswith(":"):
            section, style = head, _HEADINGS[head]
        elif section and line.startswith("  ") and not line.startswith("      "):
            style = _FINDING.get(section, "")
        console.print(Text(line, style=style))
