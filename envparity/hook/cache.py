"""The baseline cache: the last snapshot a ref resolved to, so a restart with the database down
still compares.

One file per (database, ref), named ``<key>-<snapshot_id>.json`` so that a start whose baseline has
not changed finds the file by name and writes nothing. The key hashes the database URL with the
ref, so the URL (which may hold a password) never appears on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Union

from ..paths import candidate_dirs, ensure_dir
from ..shapecheck import check
from ..writer import read_own, write_own

if TYPE_CHECKING:
    from ..model import Snapshot

_KIND = "baselines"


def _key(ref: str, db_url: Optional[str]) -> str:
    return hashlib.sha256(f"{db_url or ''}\0{ref}".encode()).hexdigest()[:24]


def remember(
    ref: str,
    db_url: Optional[str],
    baseline: Union[Snapshot, Dict[str, Any]],
    environ: Mapping[str, str],
) -> Optional[str]:
    """Cache ``baseline`` (a Snapshot or its JSON data) as what ``ref`` resolves to; its path,
    or None when nowhere writable."""
    key = _key(ref, db_url)
    if isinstance(baseline, dict):
        sid = str(baseline["snapshot_id"])
        payload = lambda: json.dumps(baseline, ensure_ascii=False).encode()  # noqa: E731
    else:
        sid = baseline.snapshot_id
        payload = lambda: baseline.model_dump_json().encode()  # noqa: E731
    name = f"{key}-{sid}.json"
    for directory in candidate_dirs(_KIND, environ):
        path = os.path.join(directory, name)
        if os.path.isfile(path) and _holds(path, payload):
            return path  # unchanged baseline: nothing to write
        if not ensure_dir(directory):
            continue
        try:
            write_own(path, payload())
        except OSError:
            continue
        _forget_others(directory, key, keep=name)
        return path
    return None


def _holds(path: str, payload: Callable[[], bytes]) -> bool:
    """Whether the copy at ``path`` is byte for byte what would be written now: a copy that
    :func:`recall_data` passes over (damaged, cut short, of a wrong shape) is written again
    rather than kept for ever. A byte comparison, not a parse and shape check: this runs at each
    start that resolved its baseline before ``exec``."""
    try:
        return read_own(path) == payload()
    except OSError:
        return False


def _forget_others(directory: str, key: str, keep: str) -> None:
    """Delete the copies of earlier baselines of the same key (the ref has moved on)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for other in names:
        if other.startswith(key + "-") and other != keep:
            try:
                os.unlink(os.path.join(directory, other))
            except OSError:
                pass


def recall(ref: str, db_url: Optional[str], environ: Mapping[str, str]) -> Optional[Snapshot]:
    """The baseline last cached for ``ref`` in this database, or None."""
    from pydantic import ValidationError

    from ..model import Snapshot

    data = recall_data(ref, db_url, environ)
    if data is None:
        return None
    try:
        return Snapshot.model_validate(data)
    except ValidationError:
        return None


def recall_data(
    ref: str,
    db_url: Optional[str],
    environ: Mapping[str, str],
    problems: Optional[List[str]] = None,
) -> Optional[Dict[str, Any]]:
    """:func:`recall` as JSON data, without pydantic (the start-up path).

    A copy that is not a snapshot's JSON shape (:func:`envparity.shapecheck.check`: a field of
    the wrong type, one missing, one unknown) is passed over as if it were not there, with a
    line in ``problems`` that names the file and the field; an older copy may still serve.
    """
    prefix = _key(ref, db_url) + "-"
    paths = []
    for directory in candidate_dirs(_KIND, environ):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        paths += [os.path.join(directory, n) for n in names if n.startswith(prefix)]
    # Newest first, across directories: an older copy may sit where this start could not write.
    for path in sorted(paths, key=_mtime, reverse=True):
        try:
            data = json.loads(read_own(path))
        except (OSError, ValueError, RecursionError):
            continue
        if not (isinstance(data, dict) and data.get("snapshot_id") and data.get("fingerprint")):
            continue
        why = check(data, "Snapshot")
        if why is None:
            return data
        if problems is not None:
            problems.append(f"cached baseline {path} ignored: {why}")
    return None


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
