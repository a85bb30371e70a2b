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
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from ..errors import StoreError
from .interface import Declined
from .lean import Found, LeanStore
from .migrate import COMPAT_TABLE, VERSION_TABLE, file_lock, usable
from .rows import dumps
from .sqlite import cause as cause
from .sqlite import configure as configure
from .sqlite import db_timeout_shown as db_timeout_shown
from .sqlite import read_only as read_only
from .sqlite import sqlite_connect as sqlite_connect
from .url import db_timeout, resolve_url, shown, sqlite_path

if TYPE_CHECKING:
    from ..model import Snapshot


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


def _timeout(timeout_s: Optional[float]) -> float:
    return db_timeout() if timeout_s is None else timeout_s


def _current(conn: sqlite3.Connection) -> bool:
    """True when this envparity reads and writes the database as it is (its schema, one it
    still serves, or a newer one that says this one may use it); False: none yet, or another."""
    try:
        version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return False  # no schema yet: open_store creates it
        raise
    if version is None:
        return False
    floor = None
    try:
        row = conn.execute(
            f"SELECT min_reader FROM {COMPAT_TABLE} WHERE revision = ?", (version[0],)
        ).fetchone()
        floor = str(row[0]) if row else None
    except sqlite3.OperationalError:
        pass  # no compat table: a store from before it
    return usable(str(version[0]), floor)


def save(
    snapshot: Snapshot, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Tuple[bool, str]]:
    """(newly stored?, redacted URL) when ``url`` is a SQLite store at this schema; else None.

    None also for a store with no schema yet or another one (:func:`open_store` migrates or
    explains). A store that is there but cannot take the snapshot (read-only, full, locked,
    damaged) raises :class:`StoreError` with the cause.
    """
    from .rows import rows

    return save_rows(rows(snapshot), url, timeout_s=timeout_s)  # validates before the file


def _ready(path: str, timeout: float) -> bool:
    """True when the SQLite file at ``path`` has a schema this envparity writes as it is."""
    if not os.path.isfile(path):
        return False
    conn = sqlite_connect(path, timeout, create=False)
    try:
        return _current(conn)
    finally:
        conn.close()


def _first_start(resolved: str, path: str, timeout: float) -> bool:
    """Create or migrate the SQLite store under its migration lock; True when it is ready.

    Every first start takes the lock: one migrates (through the full store, which holds the same
    lock), the others wait on it without spinning and find the schema made, so they store
    through this stdlib path instead of each importing SQLAlchemy and Alembic.
    """
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return False  # open_store names the missing directory
    with file_lock(path, timeout) as held:
        if not held:
            return False  # no lock file here (read-only): open_store explains
        if not _ready(path, timeout):
            from .store import open_store

            open_store(resolved, migrate=True, timeout_s=timeout).close()
    return True


def save_rows(
    r: Any,
    url: Optional[str] = None,
    *,
    timeout_s: Optional[float] = None,
    migrate: bool = False,
) -> Optional[Tuple[bool, str]]:
    """:func:`save` for rows already built (:func:`envparity.store.rows.rows_from_data` builds
    them from plain data, so the lean start-up path never builds the pydantic model).

    With ``migrate`` a SQLite file that does not exist yet, or has no schema or an older one, is
    created or migrated first under its migration lock (see :func:`_first_start`).
    """
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is None or "?" in resolved:
        return None
    sid = r.sighting["snapshot_id"]
    timeout = _timeout(timeout_s)
    conn: Optional[sqlite3.Connection] = None
    try:
        if not _ready(path, timeout) and not (migrate and _first_start(resolved, path, timeout)):
            return None
        conn = sqlite_connect(path, timeout, create=False)
        if not _current(conn):
            return None
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
                if created.rowcount == 1:
                    _save_records(conn, r.environment["identity"])
            _save_outputs(conn, r.outputs)
            # None is SQL NULL here, as Store.save writes an absent numerics or benchmarks.
            new = conn.execute(*_insert("sightings", r.sighting, "snapshot_id")).rowcount == 1
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (a full disk does): keep the first error
            raise
    except sqlite3.Error as e:
        raise StoreError(
            f"store {shown(resolved)}: saving snapshot {sid} failed: {cause(e, path, timeout)}"
        ) from None
    finally:
        if conn is not None:
            conn.close()
    return new, shown(resolved)


def _save_records(conn: Any, identity: Any) -> None:
    """RECORD lists by content (records, migration 0005), as Store._save_records writes them."""
    from ..collect.packages import read_here
    from .rows import content_digests, record_rows

    digests = [d for d in content_digests(identity) if read_here(d)]
    if not digests:
        return
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
    ).fetchone():
        return  # a store one step behind (before 0005): the lists are optional
    marks = ", ".join("?" for _ in digests)
    have = {
        row[0]
        for row in conn.execute(f"SELECT digest FROM records WHERE digest IN ({marks})", digests)
    }
    new = record_rows([d for d in digests if d not in have], datetime.now(timezone.utc))
    if new:
        sql, _ = _insert("records", new[0], "digest")
        conn.executemany(sql, [tuple(_text(v) for v in row.values()) for row in new])


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
    # SQLAlchemy's SQLite DATETIME text, naive UTC (see _text above). fromisoformat reads the
    # format it writes (microseconds always present) without importing _strptime (~2 ms at
    # start-up); strptime stays the judge of anything else.
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        value = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    return value.replace(tzinfo=timezone.utc)


def resolve(
    ref: str, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Snapshot]:
    """The snapshot a full id or a tag names in an existing SQLite store at this schema.

    None for anything else (no such file, another schema, PostgreSQL, a prefix, ``latest``, an
    unknown ref): the caller then asks :meth:`Store.resolve`, which also explains failures. The
    serving hook resolves its baseline tag here without importing SQLAlchemy.
    """
    from .rows import snapshot_from

    found = resolve_data(ref, url, timeout_s=timeout_s)
    if found is None:
        return None
    identity, instance, columns = found
    return snapshot_from(identity, instance, columns)


def resolve_data(
    ref: str, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]]:
    """:func:`resolve` as plain data: (identity, instance, columns), merged by
    :func:`envparity.store.rows.merge`; None in the same cases."""
    try:
        return _find(ref, url, timeout_s, tags=True)
    except Declined:
        return None


def _find(
    ref: str, url: Optional[str], timeout_s: Optional[float], *, tags: bool
) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]]:
    """The sighting with id ``ref`` (else, with ``tags``, the one tag ``ref`` points at) as
    (identity, instance, columns); None when this store has none. Declined when this path cannot
    read the store alone (not a SQLite file at this schema, or a SQLite error: locked, damaged,
    which :meth:`Store.resolve` explains)."""
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is None or not os.path.isfile(path) or "?" in resolved:
        raise Declined(f"store {shown(resolved)}: not an existing SQLite file")
    conn: Optional[sqlite3.Connection] = None
    try:
        conn = sqlite_connect(path, _timeout(timeout_s), create=False)
        if not _current(conn):
            raise Declined(f"store {shown(resolved)}: not at a schema this envparity reads")
        row = conn.execute(_SELECT, (ref,)).fetchone()
        if row is None and tags:
            tagged = conn.execute("SELECT snapshot_id FROM tags WHERE name = ?", (ref,)).fetchone()
            row = conn.execute(_SELECT, (tagged[0],)).fetchone() if tagged else None
        numerics_data = None
        if row is not None and row[6] is not None:
            from ..inputs import stored_json

            numerics_data = _join_outputs(conn, stored_json(row[6]))
    except sqlite3.Error:
        # locked, damaged: Store.resolve will say what is wrong
        raise Declined(f"store {shown(resolved)}: not readable by sqlite3 alone") from None
    finally:
        if conn is not None:
            conn.close()
    if row is None:
        return None
    sid, fp, captured_at, role, labels, collection, numerics, benchmarks, instance, identity = row
    from ..inputs import stored_json as loads

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
    return loads(identity), loads(instance), columns


def save_anywhere(
    snapshot: Any,
    url: Optional[str] = None,
    *,
    timeout_s: Optional[float] = None,
    migrate: bool = True,
) -> Optional[Tuple[bool, str]]:
    """:func:`save` into SQLite, else the same through psycopg into PostgreSQL; None when
    neither fast path can (no store yet, another schema): see :func:`envparity.store.save`.
    ``snapshot`` is a Snapshot, or its plain JSON data (the start-up path)."""
    from . import fast_pg
    from .rows import rows_of

    r = rows_of(snapshot)
    done = save_rows(r, url, timeout_s=timeout_s, migrate=migrate)
    if done is None:
        done = fast_pg.save_rows(r, url, timeout_s=timeout_s)
    return done


def resolve_anywhere(
    ref: str, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]]:
    """:func:`resolve_data` in SQLite, else through psycopg in PostgreSQL; None when neither can
    (a prefix, ``latest``, an unknown ref: :meth:`Store.resolve` explains)."""
    from ..redact import redact_snapshot
    from . import fast_pg

    found = resolve_data(ref, url, timeout_s=timeout_s)
    if found is None:
        found = fast_pg.resolve_data(ref, url, timeout_s=timeout_s)
    if found is None:
        return None
    identity, instance, columns = found
    # Today's rules on what an older envparity stored (redact on read).
    return redact_snapshot(identity), redact_snapshot(instance), columns


class LeanSqlite(LeanStore):
    """The stdlib-sqlite3 path as a :class:`~envparity.store.interface.SnapshotWriter` and
    :class:`~envparity.store.interface.SnapshotReader` over the functions above: it raises
    :class:`~envparity.store.interface.Declined` where they return None (see that module)."""

    kind = "SQLite"

    def __init__(
        self, url: Optional[str] = None, *, timeout_s: Optional[float] = None, migrate: bool = False
    ) -> None:
        super().__init__(url, timeout_s=timeout_s)
        self.migrate = migrate

    def _save_rows(self, r: Any) -> Optional[Tuple[bool, str]]:
        return save_rows(r, self.url, timeout_s=self.timeout_s, migrate=self.migrate)

    def _find(self, ref: str, tags: bool) -> Optional[Found]:
        return _find(ref, self.url, self.timeout_s, tags=tags)


if TYPE_CHECKING:  # mypy holds the class to the protocols it implements
    from .interface import SnapshotReader, SnapshotWriter

    _AS_WRITER: SnapshotWriter = LeanSqlite()
    _AS_READER: SnapshotReader = LeanSqlite()
