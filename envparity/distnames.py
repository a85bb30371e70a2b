"""What a package name or version in a snapshot may hold (stdlib only).

Names and versions are written into files other tools obey (``pip install -r``), so text that
could end a line or start an option there is refused when a snapshot is loaded: control and
format characters (newline, ESC, bidi overrides), any whitespace, and a leading ``-``. Nothing
more: conda's ``_libgcc_mutex``, OpenSSL's ``1.1.1w`` and distro versions like ``0.23ubuntu1`` are
real and load. Whether a name or version is valid for pip (PEP 508/440) is the exporters' question.
"""

from __future__ import annotations

from typing import Optional


def unsafe(value: str) -> Optional[str]:
    """Why ``value`` cannot be a package name or version, or None when it can."""
    if not value:
        return "is empty"
    if value.isprintable() and " " not in value and not value.startswith("-"):
        return None  # the usual case, in C: only ' ' of the whitespace is printable
    if value.startswith("-"):
        return "starts with '-' (a command-line option)"
    for char in value:
        if char.isspace():
            return f"holds whitespace ({ascii(char)})"
        if not char.isprintable():
            return f"holds a control character ({ascii(char)})"
    return None


def check(value: str) -> str:
    """``value`` when it may be a package name or version; ValueError saying why otherwise."""
    why = unsafe(value)
    if why is not None:
        raise ValueError(f"{ascii(value)[:80]} {why}; not a package name or version")
    return value
