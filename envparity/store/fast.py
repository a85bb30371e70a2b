"""Saving into an existing SQLite store with the stdlib ``sqlite3`` module: no SQLAlchemy import.

``envparity snapshot`` stores by default, and importing SQLAlchemy costs more than capturing the
snapshot does (~0.2 s against ~0.1 s). When the store is a SQLite file that already has this
envparity's schema, this module writes the very rows :meth:`Store.save` writes (both build them
with :func:`envparity.store.rows.rows`). Anything else (no file yet, an older or newer schema,
PostgreSQL) returns None and the caller goes through :func:`open_store`, which migrates or explains.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple
from urllib.parse import quote

from ..errors import StoreError
from .migrate import COMPAT_TABLE, VERSION_TABLE, file_lock, usable
from .rows import dumps
from .url import DB_TIMEOUT_ENV, db_timeout, network_fs, resolve_url, shown, sqlite_path

if TYPE_CHECKING:
    from ..model import Snapshot


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


def read_only(path: str) -> bool:
    """True when the store at ``path`` exists but cannot be written: a read-only file, or a
    read-only directory without the WAL's side files (a read-only mount, a locked-down image)."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.exists(path):
        return False
    if not os.access(path, os.W_OK):
        return True
    side_files = all(os.path.exists(path + suffix) for suffix in ("-wal", "-shm"))
    return not os.access(directory, os.W_OK) and not side_files


def sqlite_connect(path: str, timeout_s: float, *, create: bool = True) -> sqlite3.Connection:
    """A configured connection to the SQLite store at ``path`` (autocommit: BEGIN is ours).

    A store that cannot be written is opened read-only and immutable, so it still serves reads
    (SQLite cannot open a WAL database read-only in a directory where it cannot make the WAL's
    side files). Without ``create`` a missing file raises instead of becoming an empty database.
    """
    timeout = max(0.0, timeout_s)
    if read_only(path):
        uri = f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1"
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return conn
    if create:
        conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
    else:
        uri = f"file:{quote(os.path.abspath(path))}?mode=rw"
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
    try:
        configure(conn, path, timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def cause(e: BaseException, path: Optional[str], timeout_s: Optional[float] = None) -> str:
    """What a SQLite error means for the store at ``path``, in words a person acts on.

    SQLite's own messages hide the cause: a read-only directory says "unable to open database
    file", a full disk can surface as "cannot rollback - no transaction is active".
    """
    text = str(getattr(e, "orig", None) or e).strip().splitlines()[0] if str(e).strip() else ""
    low = text.lower()
    code = getattr(getattr(e, "orig", None) or e, "sqlite_errorcode", None)
    where = os.path.abspath(path) if path else "the store"
    directory = os.path.dirname(where) if path else "its directory"
    if "disk is full" in low or code == getattr(sqlite3, "SQLITE_FULL", 13) or (
        isinstance(e, OSError) and e.errno == errno.ENOSPC
    ):
        return (
            f"the disk holding {where} is full ({text or 'no space left'}); free space or "
            "point ENVPARITY_HOME / ENVPARITY_DB_URL elsewhere"
        )
    if path and ("disk i/o error" in low or code == getattr(sqlite3, "SQLITE_IOERR", 10)):
        # SQLite says "disk I/O error" for whatever write failed beneath it; a read fails so
        # too when it cannot make the WAL's shared-memory file. Name the real cause.
        real = _io_cause(where, directory)
        if real:
            return f"{real[1]} ({text}); {_IO_FIX[real[0]]}"
    if "locked" in low or "busy" in low:
        return (
            f"{where} is locked by another writer for longer than "
            f"{f'{timeout_s:g} s' if timeout_s is not None else db_timeout_shown()} "
            f"({text}); retry, or raise {DB_TIMEOUT_ENV}"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (
            f"{where} is damaged or not a SQLite database ({text}); move it aside (envparity "
            "creates a new store) or restore it from a backup"
        )
    if path and ("readonly" in low or "read-only" in low or "unable to open" in low):
        if not os.path.isdir(directory):
            return f"directory {directory} does not exist ({text}); create it first"
        if os.path.exists(where) and not os.access(where, os.W_OK):
            return f"the store file {where} is read-only ({text}); make it writable"
        if not os.access(directory, os.W_OK):
            return (
                f"the store's directory {directory} is read-only ({text}); make it writable or "
                "point ENVPARITY_HOME / ENVPARITY_DB_URL at a writable place"
            )
        if os.path.exists(where) and not os.access(where, os.R_OK):
            return f"the store file {where} is not readable ({text}); check its permissions"
    return text or type(e).__name__


_IO_FIX = {
    "full": "free space or point ENVPARITY_HOME / ENVPARITY_DB_URL elsewhere",
    "limit": "raise the limit (ulimit -f) or point ENVPARITY_DB_URL elsewhere",
    "damaged": "move it aside (envparity creates a new store) or restore it from a backup",
}


def _io_cause(where: str, directory: str) -> Optional[Tuple[str, str]]:
    """What lies behind SQLite's "disk I/O error": a full disk, a file size limit on this
    process, or damaged pages; None when none of them."""
    try:
        st = os.statvfs(directory)
        if st.f_bavail * st.f_frsize < 256 * 1024:
            return "full", f"the disk holding {where} is full"
    except OSError:
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            return "limit", f"file size limit: this process may not write files over {soft} bytes"
    except (ImportError, OSError, ValueError):
        pass
    if os.path.isfile(where):
        from .migrate import quick_check

        try:
            conn = sqlite3.connect(f"file:{quote(where)}?mode=ro&immutable=1", uri=True)
            try:
                problem = quick_check(conn)
            finally:
                conn.close()
        except sqlite3.Error as e:
            problem = str(e)
        if problem:
            return "damaged", f"{where} is damaged (SQLite's quick_check: {problem})"
    return None


def db_timeout_shown() -> str:
    try:
        return f"{db_timeout():g} s"
    except StoreError:
        return "the timeout"
    except ValueError:
        return "the timeout"


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
    from ..collect.packages import RECORDS
    from .rows import content_digests, record_rows

    digests = [d for d in content_digests(identity) if d in RECORDS]
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
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is None or not os.path.isfile(path) or "?" in resolved:
        return None
    conn: Optional[sqlite3.Connection] = None
    try:
        conn = sqlite_connect(path, _timeout(timeout_s), create=False)
        if not _current(conn):
            return None
        row = conn.execute(_SELECT, (ref,)).fetchone()
        if row is None:
            tagged = conn.execute("SELECT snapshot_id FROM tags WHERE name = ?", (ref,)).fetchone()
            row = conn.execute(_SELECT, (tagged[0],)).fetchone() if tagged else None
        numerics_data = None
        if row is not None and row[6] is not None:
            from ..inputs import stored_json

            numerics_data = _join_outputs(conn, stored_json(row[6]))
    except sqlite3.Error:
        return None  # locked, damaged: Store.resolve will say what is wrong
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
    from .rows import rows, rows_from_data

    r = rows_from_data(snapshot) if isinstance(snapshot, dict) else rows(snapshot)
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

