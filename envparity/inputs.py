"""Reading the files a user gives envparity (snapshot JSON, policy TOML) without being hurt by them.

One loader for every such input, so each gets the same guards: only regular files (a FIFO would
block forever, ``/dev/zero`` would never end), at most ``ENVPARITY_MAX_INPUT_BYTES`` (64 MiB by
default), nesting at most :data:`MAX_DEPTH` levels, and never a RecursionError or MemoryError out
of the parser: each of those is a one-line :class:`~envparity.errors.BadInput` naming the file.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Callable, List, Optional, Tuple, Union

from .errors import BadInput

MAX_BYTES_ENV = "ENVPARITY_MAX_INPUT_BYTES"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100


#: The largest limit taken as given (1 TiB); above it the limit is this. No file that large is
#: read into memory anyway, and Python's read() cannot take a size beyond an index-sized integer.
MAX_MAX_BYTES = 1 << 40
_READ_CHUNK = 1 << 24


def max_bytes() -> int:
    """``ENVPARITY_MAX_INPUT_BYTES``, else 64 MiB; a larger value than 1 TiB counts as 1 TiB."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text) if len(text) <= 100 else 0
    except ValueError:
        value = 0
    if value < 1:
        shown = repr(text) if len(text) <= 40 else repr(text[:40]) + f" ({len(text)} chars)"
        raise BadInput(f"{MAX_BYTES_ENV}={shown}: expected a whole number of bytes, e.g. 67108864")
    return min(value, MAX_MAX_BYTES)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``; BadInput (naming ``what`` and the path) for a
    missing, unreadable, special or oversized file."""
    limit = max_bytes()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such {what}; check the path") from None
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read the {what} ({_why(e)}); check the path") from None
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"{path}: is {_kind(info.st_mode)}, not a {what}; give a regular file")
    too_big = BadInput(
        f"{path}: the {what} is larger than {limit} bytes; raise {MAX_BYTES_ENV} "
        "if it really is that large"
    )
    if info.st_size > limit:
        raise too_big
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, open() won't block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BadInput(f"{path}: is not a regular file; give a regular file")
            data = _read_at_most(f, limit + 1)
    except OSError as e:
        raise BadInput(f"{path}: cannot read the {what} ({_why(e)}); check the file") from None
    except MemoryError:
        raise too_big from None
    if len(data) > limit:
        raise too_big
    return data


def _read_at_most(f: Any, size: int) -> bytes:
    # In chunks: read(size) allocates ``size`` bytes up front, whatever the file holds.
    chunks: List[bytes] = []
    left = size
    while left > 0:
        chunk = f.read(min(left, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_text(path: str, what: str = "file") -> str:
    """:func:`read_bytes` decoded as UTF-8 (a BadInput names the first bad byte)."""
    data = read_bytes(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(
            f"{path}: the {what} is not UTF-8 text (byte {e.start}); give a UTF-8 file"
        ) from None


def check_depth(
    value: Any,
    path: str,
    what: str = "file",
    limit: int = MAX_DEPTH,
    *,
    text: Optional[Union[str, bytes]] = None,
) -> Any:
    """``value`` when its lists and mappings nest at most ``limit`` deep and its text is valid
    Unicode (JSON's ``"\\ud800"`` escape decodes to a lone surrogate, which no output, store or
    spool can hold); else BadInput.

    ``text``: the JSON ``value`` was parsed from. Decoded text holds no surrogate (strict UTF-8),
    so only such an escape in it can make one: without one, the strings are not walked (most of
    the cost: a fleet's stored identities hold hundreds of thousands of them)."""
    strings = text is None or _surrogate_escape(text)
    stack: List[Tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if strings:
                for key in item:
                    if isinstance(key, str):
                        _check_text(key, path, what)
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            if strings and isinstance(item, str):
                _check_text(item, path, what)
            continue
        if depth > limit:
            raise _too_deep(path, what, limit)
        if strings:
            stack.extend((child, depth + 1) for child in children)
        else:
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, (dict, list))
            )
    return value


def _surrogate_escape(text: Union[str, bytes]) -> bool:
    """Whether JSON ``text`` may decode to a surrogate code point: an escape of one (``\\uD800``
    to ``\\uDFFF``; a valid pair of them too, checked the slow way), one already in a str, or
    in bytes one encoded as UTF-8 (``json.loads`` decodes bytes with ``surrogatepass``)."""
    import re

    if isinstance(text, str):  # an escape, or a surrogate already in the text given
        return re.search("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]", text) is not None
    if b"\x00" in text[:4] or text[:3] == b"\xef\xbb\xbf":
        return True  # UTF-16/32 or a BOM: not read here, walked instead
    return (b"\\u" in text and re.search(rb"\\u[dD][89a-fA-F]", text) is not None) or (
        re.search(rb"\xed[\xa0-\xbf]", text) is not None
    )


def _check_text(text: str, path: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadInput(
            f"{path}: the {what} holds a lone surrogate escape ({ascii(text[e.start])}), which is "
            "not valid Unicode text; give a file envparity wrote"
        ) from None


def _too_deep(path: str, what: str, limit: int) -> BadInput:
    return BadInput(
        f"{path}: the {what} nests deeper than {limit} levels; no envparity {what} does, "
        "give one envparity wrote"
    )


def parse(text: str, parser: Callable[[str], Any], path: str, what: str = "file") -> Any:
    """``parser(text)`` with its RecursionError and MemoryError turned into BadInput, then the
    result's nesting checked. The parser's own errors are the caller's to explain."""
    try:
        value = parser(text)
    except RecursionError:
        raise _too_deep(path, what, MAX_DEPTH) from None
    except MemoryError:
        raise BadInput(f"{path}: the {what} is too large to parse; check the file") from None
    except ValueError as e:
        if type(e) is not ValueError:  # the parser's own error (JSONDecodeError, TOMLDecodeError)
            raise
        # Python's limit on integer digits (4300): a number no envparity file holds.
        why = "a number with too many digits" if "digits" in str(e) else str(e)
        raise BadInput(
            f"{path}: the {what} holds {why}; check the {what}"
        ) from None
    return check_depth(value, path, what, text=text)


def load_json(path: str, what: str = "JSON file") -> Any:
    """The JSON value in the file ``path``, through every guard above."""
    import json

    text = read_text(path, what)
    try:
        return parse(text, json.loads, path, what)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not JSON ({e.msg} at line {e.lineno}); check the {what}") from None


def stored_json(text: Any) -> Any:
    """A JSON column of a store row (the SQLAlchemy store's deserializer, and the lean path's):
    an integer over Python's 4,300 digits, nesting past :data:`MAX_DEPTH` or a lone surrogate
    escape, which no envparity writes, is a one-line BadInput instead of a traceback."""
    import json

    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep("a store row", "stored JSON value", MAX_DEPTH) from None
    except ValueError as e:
        if type(e) is not ValueError:
            raise
        raise BadInput(
            "a store row holds a JSON number with too many digits, which no envparity writes; "
            "the row was crafted or damaged: delete that snapshot or restore the store"
        ) from None
    # The driver's text: a str, or bytes (psycopg), which json.loads decodes.
    source = text if isinstance(text, (str, bytes)) else None
    return check_depth(value, "a store row", "stored JSON value", text=source)


def _why(e: BaseException) -> str:
    return str(getattr(e, "strerror", None) or e)
