"""Saving into an existing SQLite store with the stdlib ``sqlite3`` module: no SQLAlchemy import.

``envparity snapshot`` stores by default, and importing SQLAlchemy costs more than capturing the
snapshot does (~0.2 s against ~0.1 s). When the store is a SQLite file that already has this
envparity's schema, this module writes the very rows :meth:`Store.save` writes (both build them
with :func:`envparity.store.rows.rows`). Anything else (no file yet, an older or newer schema,
PostgreSQL) returns None and the caller goes through :func:`open_store`, which migrates or explains.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

from ..errors import StoreError
from ..model import Snapshot
from .migrate import HEAD, VERSION_TABLE
from .rows import dumps, rows
from .url import network_fs, resolve_url, shown, sqlite_path

BUSY_TIMEOUT_S = 5.0


def configure(conn: Any, path: Optional[str], busy_timeout_s: float) -> None:
    """The pragmas every envparity SQLite connection gets (this path's and SQLAlchemy's).

    WAL lets readers run beside the writer, but needs shared memory: not on a network file
    system. NORMAL sync is safe with WAL (a crash loses at most the last commits, never the file).
    """
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    if not (path and network_fs(os.path.dirname(os.path.abspath(path)))):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _text(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite types store it (JSON text, naive UTC timestamp text)."""
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite DATETIME storage format, microseconds always written.
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (dict, list)):
        return dumps(value)
    return value


def _insert(table: str, row: Dict[str, Any], conflict: str) -> Tuple[str, Tuple[Any, ...]]:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({conflict}) DO NOTHING"
    return sql, tuple(_text(v) for v in row.values())


def save(snapshot: Snapshot, url: Optional[str] = None) -> Optional[Tuple[bool, str]]:
    """(newly stored?, redacted URL) when ``url`` is a SQLite store at this schema; else None."""
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is None or not os.path.isfile(path) or "?" in resolved:
        return None
    r = rows(snapshot)  # validates before touching the file
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        try:
            version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
        except sqlite3.OperationalError:
            return None  # no schema yet: open_store creates it
        if version is None or version[0] != HEAD:
            return None  # open_store migrates or explains
        configure(conn, path, BUSY_TIMEOUT_S)
        # BEGIN IMMEDIATE: the write lock up front (a deferred read-then-write can deadlock).
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = conn.execute(
                "SELECT 1 FROM environments WHERE fingerprint = ?", (r.fingerprint,)
            ).fetchone()
            if known is None:
                created = conn.execute(*_insert("environments", r.environment, "fingerprint"))
                if created.rowcount == 1 and r.packages:
                    sql, _ = _insert("packages", r.packages[0], "fingerprint, name, version")
                    conn.executemany(sql, [tuple(p.values()) for p in r.packages])
            _save_outputs(conn, r.outputs)
            # None is SQL NULL here, as Store.save writes an absent numerics or benchmarks.
            new = conn.execute(*_insert("sightings", r.sighting, "snapshot_id")).rowcount == 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as e:
        raise StoreError(
            f"store {shown(resolved)}: saving snapshot {snapshot.snapshot_id} failed: {e}"
        ) from None
    finally:
        conn.close()
    return new, shown(resolved)


def _save_outputs(conn: Any, outputs: Any) -> None:
    """Probe outputs by content (probe_outputs, migration 0002): one row per distinct sha256."""
    if outputs:
        sql, _ = _insert("probe_outputs", outputs[0], "sha256")
        conn.executemany(sql, [tuple(_text(v) for v in o.values()) for o in outputs])


def _join_outputs(conn: Any, numerics: Any) -> Any:
    """A sighting's numerics with their outputs read back from probe_outputs."""
    from .rows import join_outputs, output_keys

    keys = output_keys(numerics)
    if not keys:
        return numerics
    marks = ", ".join("?" for _ in keys)
    found = dict(
        conn.execute(
            f"SELECT sha256, data FROM probe_outputs WHERE sha256 IN ({marks})", keys
        ).fetchall()
    )
    return join_outputs(numerics, found)


_SELECT = (
    "SELECT s.snapshot_id, s.fingerprint, s.captured_at, s.role, s.labels, s.collection, "
    "s.numerics, s.benchmarks, s.instance, e.identity "
    "FROM sightings s JOIN environments e ON e.fingerprint = s.fingerprint "
    "WHERE s.snapshot_id = ?"
)


def _captured_at(text: str) -> datetime:
    # SQLAlchemy's SQLite DATETIME text, naive UTC (see _text above).
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


def resolve(ref: str, url: Optional[str] = None) -> Optional[Snapshot]:
    """The snapshot a full id or a tag names in an existing SQLite store at this schema.

    None for anything else (no such file, another schema, PostgreSQL, a prefix, ``latest``, an
    unknown ref): the caller then asks :meth:`Store.resolve`, which also explains failures. The
    serving hook resolves its baseline tag here without importing SQLAlchemy.
    """
    import json

    from .rows import snapshot_from

    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is None or not os.path.isfile(path) or "?" in resolved:
        return None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return None
    try:
        version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
        if version is None or version[0] != HEAD:
            return None
        row = conn.execute(_SELECT, (ref,)).fetchone()
        if row is None:
            tagged = conn.execute("SELECT snapshot_id FROM tags WHERE name = ?", (ref,)).fetchone()
            row = conn.execute(_SELECT, (tagged[0],)).fetchone() if tagged else None
        numerics_data = None
        if row is not None and row[6] is not None:
            import json as _json

            numerics_data = _join_outputs(conn, _json.loads(row[6]))
    except sqlite3.Error:
        return None  # locked, damaged, older: Store.resolve will say what is wrong
    finally:
        conn.close()
    if row is None:
        return None
    sid, fp, captured_at, role, labels, collection, numerics, benchmarks, instance, identity = row
    loads = json.loads
    columns: Dict[str, Any] = {
        "snapshot_id": sid,
        "fingerprint": fp,
        "captured_at": _captured_at(captured_at),
        "role": role,
        "labels": loads(labels),
        "collection": loads(collection),
        "numerics": numerics_data,
        "benchmarks": loads(benchmarks) if benchmarks is not None else None,
    }
    return snapshot_from(loads(identity), loads(instance), columns)
