"""Refs: the ways a snapshot is named (DESIGN.md, "Refs").

A path to a snapshot JSON file needs no database, so CI can diff artifacts; neither does a ref
into another tool (``mlflow:runs:/<id>``), which its integration module loads. Every other form
(a full id or a unique 6+ character prefix, a tag, ``latest[:role=R,k=v]``, ``fp:PREFIX``) is
resolved by the store. ``fp:PREFIX`` names an environment by its fingerprint (12 or more hex
characters, or all 64): the latest snapshot with that fingerprint. The ``run`` log prints it.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Optional

from .errors import BadInput

if TYPE_CHECKING:
    from .model import Snapshot


# Refs into other tools: prefix -> the module whose ``load_ref(ref)`` reads them. Each module
# imports its tool only when such a ref is used.
_EXTERNAL = {"mlflow:": "envparity.integrations.mlflow"}


def _external(ref: str) -> Optional[str]:
    """The module that loads ``ref`` when it names a snapshot in another tool, else None."""
    for prefix, module in _EXTERNAL.items():
        if ref.startswith(prefix):
            return module
    return None


FINGERPRINT_PREFIX = "fp:"
MIN_FINGERPRINT_PREFIX = 12
_HEX = re.compile(r"^[0-9a-f]+$")


def fingerprint_ref(ref: str) -> Optional[str]:
    """The fingerprint prefix of an ``fp:PREFIX`` ref (lower-cased), None for other refs.

    A malformed one (not hex, shorter than 12, longer than 64) is a BadInput saying so.
    """
    if not ref.startswith(FINGERPRINT_PREFIX):
        return None
    prefix = ref[len(FINGERPRINT_PREFIX) :].strip().lower()
    if not _HEX.match(prefix) or not MIN_FINGERPRINT_PREFIX <= len(prefix) <= 64:
        raise BadInput(
            f"ref {ref!r}: fp: takes {MIN_FINGERPRINT_PREFIX} to 64 hex characters of a "
            "fingerprint, e.g. fp:9e9e90951ac7 as the `envparity run` log prints it"
        )
    return prefix


def is_file_ref(ref: str) -> bool:
    """True when ``ref`` names a snapshot outside the store: a file, or another tool's ref
    (``mlflow:...``). :func:`load_file` reads either."""
    if _external(ref):
        return True
    return ref.endswith(".json") or os.sep in ref or os.path.isfile(ref)


def load_file(path: str) -> Snapshot:
    """The snapshot in a JSON file (or another tool's ref); a missing, non-JSON or invalid file
    is a BadInput naming it."""
    module = _external(path)
    if module:
        import importlib

        loaded: Snapshot = importlib.import_module(module).load_ref(path)
        return loaded
    import json

    from pydantic import ValidationError

    from .inputs import parse, read_text
    from .model import Snapshot

    text = read_text(path, "snapshot file")
    try:
        data: Any = parse(text, json.loads, path, "snapshot file")
    except json.JSONDecodeError as e:
        raise BadInput(
            f"{path}: not JSON ({e.msg} at line {e.lineno}); "
            "give a file written by `envparity snapshot -o`"
        ) from None
    from .redact import redact_snapshot

    try:
        # Today's rules on what an older envparity wrote (redact on read).
        return Snapshot.model_validate(redact_snapshot(data))
    except (RecursionError, MemoryError):
        raise BadInput(f"{path}: the snapshot file is too deeply nested or too large") from None
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise BadInput(
            f"{path}: not a valid envparity snapshot: field {where}: {first['msg']}{more}; "
            "give a file written by `envparity snapshot -o`"
        ) from None


def resolve(ref: str, db_url: Optional[str] = None) -> Snapshot:
    """The snapshot ``ref`` names: a JSON file, or anything the store resolves."""
    if is_file_ref(ref) and not ref.startswith(FINGERPRINT_PREFIX):
        return load_file(ref)
    from .store import open_reader

    with open_reader(db_url) as store:
        return store.resolve(ref)
