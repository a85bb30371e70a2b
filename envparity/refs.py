"""Refs: the ways a snapshot is named (docs/design.md, "Refs"); their syntax is in refspec.

A path to a snapshot JSON file needs no database, so CI can diff artifacts; neither does a ref
into another tool (``mlflow:runs:/<id>``), which its integration module loads. Every other form
(a full id or a unique 6+ character prefix, a tag, ``latest[:role=R,k=v]``, ``fp:PREFIX``) is
resolved by the store. ``fp:PREFIX`` names an environment by its fingerprint (12 or more hex
characters, or all 64): the latest snapshot with that fingerprint. The ``run`` log prints it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from .errors import BadInput
from .refspec import FINGERPRINT_PREFIX as FINGERPRINT_PREFIX
from .refspec import MIN_FINGERPRINT_PREFIX as MIN_FINGERPRINT_PREFIX
from .refspec import fingerprint_ref as fingerprint_ref

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
    from .model import fingerprint
    from .redact import redact_snapshot

    try:
        snapshot = Snapshot.model_validate(data)
        # Today's rules on what an older envparity wrote (redact on read), after the claimed
        # fingerprint is checked against the content as written.
        redacted = redact_snapshot(data)
        clean = snapshot if redacted == data else Snapshot.model_validate(redacted)
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
    actual = fingerprint(snapshot)
    warning = fingerprint_mismatch(path, snapshot.fingerprint, actual)
    if warning is not None:
        import sys

        print(f"envparity: warning: {warning}", file=sys.stderr)
    if clean is not snapshot:
        actual = fingerprint(clean)  # redacting changed identity values: as `db scrub` would
    if clean.fingerprint == actual:
        return clean
    return clean.model_copy(update={"fingerprint": actual})


def fingerprint_mismatch(where: str, claimed: str, actual: str) -> Optional[str]:
    """One line when a snapshot file claims another fingerprint than its content has (recomputed
    with the rules of its own schema version): edited by hand, or damaged. None when it matches.
    """
    if claimed == actual or not claimed:
        return None  # the same, or a file that claims none (written by hand, or by another tool)
    from .report.escape import terminal

    return terminal(
        f"{where}: claims fingerprint {claimed or '(none)'} but its content has {actual} "
        "(edited after it was written?); using the recomputed one"
    )


def resolve(ref: str, db_url: Optional[str] = None) -> Snapshot:
    """The snapshot ``ref`` names: a JSON file, or anything the store resolves."""
    if is_file_ref(ref) and not ref.startswith(FINGERPRINT_PREFIX):
        return load_file(ref)
    from .store import open_reader

    with open_reader(db_url) as store:
        return store.resolve(ref)
