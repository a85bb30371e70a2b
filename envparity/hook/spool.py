"""The spool: snapshots the store could not take, kept on local disk until ``envparity db flush``.

Each snapshot is one JSON file named ``<captured_at>-<snapshot_id>.json`` (so names sort by time),
written atomically, in the first writable candidate directory (see :mod:`.paths`). A directory
keeps at most ``ENVPARITY_SPOOL_MAX`` files (default :data:`SPOOL_MAX`), dropping the oldest: a
container that restarts in a loop with the database down must not fill its disk. What is dropped
is never silent: a counter file in the directory records how many and since when, the hook's log
line says so, and ``envparity db flush`` reports it. Replaying is idempotent because the store's
writes are idempotent by snapshot id, and a file is deleted only after the store has it, so running
``db flush`` twice, or two at once, stores each snapshot exactly once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from ..errors import SpoolUnavailable
from ..paths import candidate_dirs, ensure_dir
from ..writer import read_own, write_own

if TYPE_CHECKING:
    from ..model import Snapshot
    from ..store.interface import Store

SPOOL_MAX = 1000
SPOOL_MAX_ENV = "ENVPARITY_SPOOL_MAX"
_SUFFIX = ".json"
_INVALID = ".invalid"
# Hidden (spooled() skips dot files) and not .json: never replayed as a snapshot.
_DROPPED = ".dropped-count"


def spool_max(environ: Mapping[str, str]) -> int:
    """``ENVPARITY_SPOOL_MAX`` when it is a whole number of 1 or more, else :data:`SPOOL_MAX`."""
    try:
        value = int(environ.get(SPOOL_MAX_ENV, "").strip())
    except ValueError:
        return SPOOL_MAX
    return value if value >= 1 else SPOOL_MAX


@dataclass(frozen=True)
class Dropped:
    """Spooled snapshots deleted to keep a spool directory within its maximum."""

    directory: str
    count: int
    since: str  # UTC, ISO 8601: when the first of them was dropped

    def describe(self) -> str:
        return (
            f"{self.count} oldest spooled snapshot{'s' if self.count != 1 else ''} dropped from "
            f"{self.directory} since {self.since} (spool full: raise {SPOOL_MAX_ENV} or run "
            "`envparity db flush`)"
        )


def _read_dropped(directory: str) -> Optional[Dropped]:
    try:
        data = json.loads(read_own(os.path.join(directory, _DROPPED), 4096))
        return Dropped(directory, int(data["count"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _count_dropped(directory: str, count: int) -> None:
    if count <= 0:
        return
    before = _read_dropped(directory)
    since = before.since if before else datetime.now(timezone.utc).isoformat(timespec="seconds")
    total = count + (before.count if before else 0)
    try:
        write_own(
            os.path.join(directory, _DROPPED),
            json.dumps({"count": total, "since": since}).encode(),
        )
    except OSError:
        pass


def dropped(environ: Mapping[str, str], directory: Optional[str] = None) -> List[Dropped]:
    """What each spool directory has dropped since its count was last cleared."""
    found = []
    for candidate in candidate_dirs("spool", environ, directory):
        entry = _read_dropped(candidate)
        if entry is not None and entry.count:
            found.append(entry)
    return found


def dropped_at(path: str) -> List[Dropped]:
    """What the spool directory of ``path`` (a file just spooled there) has dropped: the start-up
    hook's view. Drops happen only where a snapshot is written, so the hook reads that one
    directory; the others (and the user cache directory's lookup) are ``db flush``'s to report."""
    entry = _read_dropped(os.path.dirname(path))
    return [entry] if entry is not None and entry.count else []


def clear_dropped(entries: List[Dropped]) -> None:
    """Reset the counters ``entries`` came from (``db flush`` has reported them)."""
    for entry in entries:
        try:
            os.unlink(os.path.join(entry.directory, _DROPPED))
        except OSError:
            pass


def _name(snapshot_id: str, captured_at: Any) -> str:
    if not isinstance(captured_at, datetime):
        captured_at = datetime.fromisoformat(str(captured_at).replace("Z", "+00:00"))
    return f"{captured_at:%Y%m%dT%H%M%S%fZ}-{snapshot_id}{_SUFFIX}"


def _entries(directory: str) -> List[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith(_SUFFIX) and not n.startswith("."))


def _prune(directory: str, keep: int) -> int:
    """Delete the oldest spooled files beyond ``keep``; the number deleted."""
    names = _entries(directory)
    dropped = 0
    for name in names[: max(0, len(names) - keep)]:
        try:
            os.unlink(os.path.join(directory, name))
            dropped += 1
        except OSError:
            pass
    _count_dropped(directory, dropped)
    return dropped


def spool(
    snapshot: Snapshot,
    environ: Mapping[str, str],
    directory: Optional[str] = None,
    *,
    keep: Optional[int] = None,
) -> str:
    """Write ``snapshot`` to the spool and return its path.

    ``directory`` (ENVPARITY_SPOOL_DIR) is tried first, then the defaults; raises
    :class:`SpoolUnavailable` naming every directory tried when none is writable. ``keep``
    defaults to ``ENVPARITY_SPOOL_MAX``.
    """
    # A lone surrogate (text that was not UTF-8) must not cost the snapshot: keep it escaped.
    data = snapshot.model_dump_json().encode("utf-8", "backslashreplace")
    name = _name(snapshot.snapshot_id, snapshot.captured_at)
    return _write(data, name, environ, directory, keep)


def spool_data(
    data: Dict[str, Any],
    environ: Mapping[str, str],
    directory: Optional[str] = None,
    *,
    keep: Optional[int] = None,
) -> str:
    """:func:`spool` for a snapshot as JSON data (the start-up path; no pydantic)."""
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace")
    name = _name(str(data["snapshot_id"]), data["captured_at"])
    return _write(payload, name, environ, directory, keep)


def _write(
    data: bytes,
    name: str,
    environ: Mapping[str, str],
    directory: Optional[str],
    keep: Optional[int],
) -> str:
    if keep is None:
        keep = spool_max(environ)
    tried: List[str] = []
    for candidate in candidate_dirs("spool", environ, directory):
        if not ensure_dir(candidate):
            tried.append(f"{candidate} (not writable)")
            continue
        path = os.path.join(candidate, name)
        try:
            write_own(path, data, durable=True)
        except OSError as e:
            tried.append(f"{candidate} ({e.strerror or e})")
            continue
        _prune(candidate, keep)
        return path
    raise SpoolUnavailable("no writable spool directory: tried " + ", ".join(tried))


def spooled(environ: Mapping[str, str], directory: Optional[str] = None) -> List[str]:
    """Every spooled snapshot file in the candidate directories, oldest first within each."""
    return [
        os.path.join(candidate, name)
        for candidate in candidate_dirs("spool", environ, directory)
        for name in _entries(candidate)
    ]


@dataclass
class FlushResult:
    """What ``flush`` did: counts, and the files it could not replay (path, why)."""

    stored: int = 0
    already_stored: int = 0
    invalid: List[Tuple[str, str]] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    error: Optional[str] = None  # the store failed; the remaining files stay spooled
    dropped: List[Dropped] = field(default_factory=list)  # lost to the spool's maximum


def flush(store: Store, environ: Mapping[str, str], directory: Optional[str] = None) -> FlushResult:
    """Replay every spooled snapshot into ``store`` (a :class:`~envparity.store.Store`).

    A file that is not a valid snapshot is renamed ``*.invalid`` (kept for a person, not retried).
    A :class:`~envparity.errors.StoreError` stops the replay; the files not yet stored stay.
    """
    from pydantic import ValidationError

    from ..errors import StoreError
    from ..model import Snapshot

    result = FlushResult(dropped=dropped(environ, directory))
    for path in spooled(environ, directory):
        try:
            data = read_own(path)
        except FileNotFoundError:
            continue  # another flush stored it and took it away
        except OSError as e:
            result.failed.append((path, f"cannot read: {e.strerror or e}"))
            continue
        try:
            snapshot = Snapshot.model_validate_json(data)
        except ValidationError as e:
            why = f"not a valid snapshot ({e.errors()[0]['msg']})"
            try:
                os.replace(path, path + _INVALID)
            except OSError:
                pass
            result.invalid.append((path, why))
            continue
        try:
            new = store.save(snapshot)
        except StoreError as e:
            result.error = str(e)
            return result
        if new:
            result.stored += 1
        else:
            result.already_stored += 1
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            # Stored; the next flush finds it again and the store ignores the duplicate.
            result.failed.append((path, f"stored, but cannot delete: {e.strerror or e}"))
    return result
