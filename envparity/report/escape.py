"""One escaping layer for every text envparity writes from data (stdlib only).

Values in a snapshot come from the environment it describes (labels, roles, variables, package
metadata) and may be hostile. Every format:

- writes C0/C1 control characters (ESC, CR, BEL, ...) and Unicode line separators as visible
  ``\\xNN``/``\\uNNNN`` text, so a value cannot rewrite a terminal or forge a log line;
- writes bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C)
  the same way, so a value cannot reorder what a reader sees ("Trojan Source").

On top of that :func:`markdown` escapes HTML and every character that starts Markdown syntax
(links, images, emphasis, code, tables, autolinks), :func:`html_text` escapes HTML, and
:func:`xml_text` leaves only characters XML 1.0 can hold, :func:`workflow_data` and
:func:`workflow_property` encode a GitHub Actions workflow command's message and properties, and
:func:`openmetrics_label` a Prometheus/OpenMetrics label value.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls, DEL, Unicode line/paragraph separators, bidi controls.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control and bidi characters written as ``\\xNN``/``\\uNNNN``."""
    return _UNSAFE.sub(_visible, text)


terminal = printable  #: what a terminal or a log line gets: never ESC, CR or a bidi override


# As _UNSAFE, less JSON's whitespace (TAB, LF, CR): a serializer escapes those inside strings, and
# outside them they are the layout.
_UNSAFE_IN_JSON = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]"
)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(text: str) -> str:
    """JSON text with every control and bidi character written as a ``\\uNNNN`` escape.

    Lossless: such characters can only occur inside JSON strings, where the escape means the
    same character, so a parser reads back the same value; a person (or a terminal) paging the
    JSON sees the escape instead of a character that rewrites the screen or reorders the text.
    """
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


def show(value: Any) -> str:
    """A value as a person reads it, neutralized: ``(absent)`` for None, ``true``/``false``."""
    if value is None:
        return "(absent)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(str(value))


# Characters that start Markdown syntax (GitHub-flavoured): links and images ([ ] ( ) !),
# emphasis and strikethrough (* _ ~), code (`), tables (|), headings (#), escapes (\), and the
# ones autolinks need (: in "://", @ in an address, . in "www.").
_MARKDOWN_RE = re.compile(
    "[" + re.escape("[]()!*_~`|#\\@") + "]|:(?=//)|(?<=[wW]{3})\\."
)


def markdown(value: Any) -> str:
    """Text safe in a GitHub Markdown table cell or list item: one line, no markup, no links."""
    from html import escape  # here: the start-up hook's log line needs no html (~3 ms)

    text = escape(show(value), quote=False)
    text = _MARKDOWN_RE.sub(lambda m: f"&#{ord(m.group())};", text)
    return " ".join(text.split())


def html_text(value: Any) -> str:
    """Text safe in HTML element content and quoted attributes."""
    from html import escape

    return escape(show(value), quote=True)


# Characters XML 1.0 cannot hold at all (after printable(), only surrogates and non-characters).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """Text for an XML attribute or element (ElementTree escapes <, & and quotes)."""
    return _NOT_XML.sub("\ufffd", show(value) if not isinstance(value, str) else printable(value))


def workflow_data(text: str) -> str:
    """A GitHub Actions workflow command's message: ``%``, CR and LF as the runner decodes them
    (``%25``, ``%0D``, ``%0A``), so no value ends the command or starts a line of its own; other
    control and bidi characters made visible, as everywhere."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def workflow_property(text: str) -> str:
    """A workflow command's property value (``title=``): as :func:`workflow_data`, and ``:`` and
    ``,`` as ``%3A`` and ``%2C``."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def openmetrics_label(value: str) -> str:
    """A label value as the OpenMetrics/Prometheus exposition format writes it (backslash, double
    quote and newline escaped, so the parser gives the value back with its line breaks); other
    control and bidi characters made visible (``\\xNN``), as everywhere."""
    value = "\n".join(printable(part) for part in value.split("\n"))
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
