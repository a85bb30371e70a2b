"""Refs: the ways a snapshot is named (DESIGN.md, "Refs").

A path to a snapshot JSON file needs no database, so CI can diff artifacts. Every other form (a
full id or a unique 6+ character prefix, a tag, ``latest[:role=R,k=v]``) is resolved by the store.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from .errors import BadInput

if TYPE_CHECKING:
    from .model import Snapshot


def is_file_ref(ref: str) -> bool:
    """True when ``ref`` names a file rather than something in the store."""
    return ref.endswith(".json") or os.sep in ref or os.path.isfile(ref)


def load_file(path: str) -> Snapshot:
    """The snapshot in a JSON file; a missing, non-JSON or invalid file is a BadInput naming it."""
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
    try:
        return Snapshot.model_validate(data)
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
    if is_file_ref(ref):
        return load_file(ref)
    from .store import open_store

    with open_store(db_url) as store:
        return store.resolve(ref)
