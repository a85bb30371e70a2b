"""Saving into (and reading a baseline from) a PostgreSQL store with psycopg alone.

The PostgreSQL twin of :mod:`envparity.store.fast`: a serving container's start-up saves its
snapshot and reads its baseline tag without importing SQLAlchemy (~0.13 s). It writes the very
rows :meth:`Store.save` writes (both build them with :mod:`envparity.store.rows`), under the same
``ENVPARITY_DB_TIMEOUT`` (connect, lock and statement timeouts, and a client-side deadline for a
server that never answers). Anything it cannot do alone (no psycopg, a schema that is not this
envparity's, a ref that is not a full id or a tag) returns None: the caller then goes through
:func:`open_store`, which migrates or explains.
"""

from __future__ import annotations

import math
import os
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..errors import StoreError, StoreTimeout
from ..redact import redact_value
from .interface import Declined
from .lean import Found, LeanStore
from .migrate import HEAD, VERSION_TABLE
from .rows import dumps
from .url import DB_TIMEOUT_ENV, PG_SCHEME, db_timeout, normalize, resolve_url, shown

_JSON_COLUMNS = {"identity", "labels", "collection", "numerics", "benchmarks", "instance"}


def _conninfo(url: str) -> Optional[str]:
    if not url.startswith(PG_SCHEME):
        return None
    return "postgresql://" + url[len(PG_SCHEME) :]


class _Connection:
    """A psycopg connection with envparity's timeouts, cut off when the server goes silent."""

    def __init__(self, url: str, conninfo: str, timeout_s: float) -> None:
        import psycopg

        self.url, self.timeout_s, self.expired = url, timeout_s, False
        ms = max(1, int(timeout_s * 1000))
        self.conn = psycopg.connect(
            conninfo,
            connect_timeout=max(2, math.ceil(timeout_s)),
            options=f"-c lock_timeout={ms} -c statement_timeout={ms + 250}",
            autocommit=True,  # each transaction() block is one BEGIN ... COMMIT
        )
        self._timer: Optional[threading.Timer] = None

    def start_deadline(self) -> None:
        # Half a second after the server's own timeouts, which name the cause when it can.
        self._timer = threading.Timer(self.timeout_s + 0.5, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        import socket

        self.expired = True
        try:
            sock = socket.socket(fileno=os.dup(self.conn.pgconn.socket))
        except Exception:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            sock.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        try:
            self.conn.close()
        except Exception:
            pass


def failure(url: str, doing: str, e: BaseException, timeout_s: float, expired: bool) -> StoreError:
    """The StoreError for a psycopg error ``e``, naming the store and the real cause."""
    text = str(e).strip()
    reason = redact_value(text.splitlines()[0].strip() if text else type(e).__name__)[:300]
    return explain(f"store {shown(url)}", doing, reason, timeout_s, expired)


def explain(where: str, doing: str, reason: str, timeout_s: float, expired: bool) -> StoreError:
    """The StoreError for a PostgreSQL failure whose first line is ``reason`` (redacted): a
    server that never answered within the deadline, a lock or statement timeout, or the rest.
    The psycopg path above and the SQLAlchemy store both word their errors here."""
    limit = f"{timeout_s:g} s ({DB_TIMEOUT_ENV})"
    if expired:
        return StoreTimeout(
            f"{where}: {doing} failed: no answer from the server within {limit}; "
            "is it hung or overloaded?"
        )
    low = reason.lower()
    if "lock timeout" in low:
        return StoreTimeout(
            f"{where}: {doing} failed: a lock was held by another connection for more than "
            f"{limit} ({reason}); retry, or find the blocking session in pg_stat_activity"
        )
    if "statement timeout" in low or "timeout expired" in low:
        return StoreTimeout(f"{where}: {doing} failed: {reason} after {limit}")
    return StoreError(f"{where}: {doing} failed: {reason}")


def _open(url: Optional[str], timeout_s: Optional[float]) -> Optional[Tuple[str, _Connection]]:
    """(resolved URL, a connection at this schema's head), or None when this path declines."""
    resolved = normalize(resolve_url(url))
    conninfo = _conninfo(resolved)
    if conninfo is None:
        return None
    try:
        import psycopg
    except ImportError:
        return None
    timeout = db_timeout() if timeout_s is None else timeout_s
    try:
        conn = _Connection(resolved, conninfo, timeout)
    except psycopg.Error as e:
        raise failure(resolved, "connecting", e, timeout, False) from None
    conn.start_deadline()
    try:
        with conn.conn.transaction():
            row = conn.conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except psycopg.errors.UndefinedTable:
        conn.close()
        return None  # no schema: `envparity db upgrade` (open_store explains)
    except psycopg.Error as e:
        conn.close()
        raise failure(resolved, "reading the schema version", e, timeout, conn.expired) from None
    if row is None or row[0] != HEAD:
        conn.close()
        return None
    return resolved, conn


def _values(row: Dict[str, Any]) -> List[Any]:
    from psycopg.types.json import Json

    return [
        Json(v, dumps=dumps) if k in _JSON_COLUMNS and v is not None else v for k, v in row.items()
    ]


def _insert(
    table: str, row: Dict[str, Any], conflict: str, returning: Optional[str] = None
) -> Tuple[str, List[Any]]:
    """INSERT ... ON CONFLICT DO NOTHING of ``row`` (its values as the second item)."""
    columns = ", ".join(row)
    marks = ", ".join("%s" for _ in row)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({conflict}) DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    return sql, _values(row)


def _insert_all(conn: Any, table: str, rows: List[Dict[str, Any]], conflict: str) -> None:
    """:func:`_insert` of every row of ``rows`` (all with the same columns)."""
    if rows:
        sql, _ = _insert(table, rows[0], conflict)
        with conn.cursor() as cur:
            cur.executemany(sql, [_values(row) for row in rows])


def _save_records(conn: Any, identity: Any) -> None:
    """RECORD lists by content (records, migration 0005), as Store._save_records writes them:
    those read in this process and not stored yet."""
    from ..collect.packages import read_here
    from .rows import content_digests, record_rows

    digests = [d for d in content_digests(identity) if read_here(d)]
    if not digests:
        return
    have = {
        row[0]
        for row in conn.execute("SELECT digest FROM records WHERE digest = ANY(%s)", (digests,))
    }
    new = record_rows([d for d in digests if d not in have], datetime.now(timezone.utc))
    _insert_all(conn, "records", new, "digest")


def save_rows(
    r: Any, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Tuple[bool, str]]:
    """(newly stored?, redacted URL) when ``url`` is a PostgreSQL store at this schema; None when
    this path declines (not PostgreSQL, no psycopg, another schema). Raises StoreError.

    The rows :meth:`Store.save` writes: the environment with its packages and RECORD lists (when
    new), the probe outputs (once by content) and the sighting."""
    opened = _open(url, timeout_s)  # imports psycopg only for a PostgreSQL URL
    if opened is None:
        return None
    import psycopg

    resolved, conn = opened
    sid = r.sighting["snapshot_id"]
    try:
        with conn.conn.transaction():
            known = conn.conn.execute(
                "SELECT 1 FROM environments WHERE fingerprint = %s", (r.fingerprint,)
            ).fetchone()
            if known is None:
                created = conn.conn.execute(
                    *_insert("environments", r.environment, "fingerprint", "fingerprint")
                ).fetchone()
                if created is not None:
                    _insert_all(conn.conn, "packages", r.packages, "fingerprint, name, version")
                    _save_records(conn.conn, r.environment["identity"])
            _insert_all(conn.conn, "probe_outputs", r.outputs, "sha256")
            new = (
                conn.conn.execute(
                    *_insert("sightings", r.sighting, "snapshot_id", "snapshot_id")
                ).fetchone()
                is not None
            )
    except psycopg.Error as e:
        raise failure(
            resolved, f"saving snapshot {sid}", e, conn.timeout_s, conn.expired
        ) from None
    finally:
        conn.close()
    return new, shown(resolved)


_SELECT = (
    "SELECT s.snapshot_id, s.fingerprint, s.captured_at, s.role, s.labels, s.collection, "
    "s.numerics, s.benchmarks, s.instance, e.identity "
    "FROM sightings s JOIN environments e ON e.fingerprint = s.fingerprint "
    "WHERE s.snapshot_id = %s"
)


def _join_outputs(conn: Any, numerics: Any) -> Any:
    """A sighting's numerics with their outputs read back from probe_outputs."""
    from .rows import join_outputs, output_keys

    keys = output_keys(numerics)
    if not keys:
        return numerics
    found = dict(
        conn.execute(
            "SELECT sha256, data FROM probe_outputs WHERE sha256 = ANY(%s)", (keys,)
        ).fetchall()
    )
    return join_outputs(numerics, found)


def resolve_data(
    ref: str, url: Optional[str] = None, *, timeout_s: Optional[float] = None
) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]]:
    """The snapshot a full id or a tag names, as (identity, instance, columns); None for anything
    else (the caller asks :meth:`Store.resolve`, which explains). Raises StoreError."""
    try:
        return _find(ref, url, timeout_s, tags=True)
    except Declined:
        return None


def _find(
    ref: str, url: Optional[str], timeout_s: Optional[float], *, tags: bool
) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]]:
    """The sighting with id ``ref`` (else, with ``tags``, the one tag ``ref`` points at) as
    (identity, instance, columns); None when the store has none. Declined when this path cannot
    read the store alone; StoreError when the store fails."""
    opened = _open(url, timeout_s)  # imports psycopg only for a PostgreSQL URL
    if opened is None:
        raise Declined(f"store {shown(resolve_url(url))}: not a PostgreSQL store at this schema")
    import psycopg

    resolved, conn = opened
    try:
        with conn.conn.transaction():
            row = conn.conn.execute(_SELECT, (ref,)).fetchone()
            if row is None and tags:
                tagged = conn.conn.execute(
                    "SELECT snapshot_id FROM tags WHERE name = %s", (ref,)
                ).fetchone()
                row = conn.conn.execute(_SELECT, (tagged[0],)).fetchone() if tagged else None
            numerics = _join_outputs(conn.conn, row[6]) if row is not None else None
    except psycopg.Error as e:
        raise failure(resolved, f"resolving {ref!r}", e, conn.timeout_s, conn.expired) from None
    finally:
        conn.close()
    if row is None:
        return None
    sid, fp, captured_at, role, labels, collection, _, benchmarks, instance, identity = row
    moment: datetime = captured_at
    columns: Dict[str, Any] = {
        "snapshot_id": sid,
        "fingerprint": fp,
        "captured_at": moment,
        "role": role,
        "labels": labels,
        "collection": collection,
        "numerics": numerics,
        "benchmarks": benchmarks,
    }
    return identity, instance, columns


class LeanPostgres(LeanStore):
    """The psycopg path as a :class:`~envparity.store.interface.SnapshotWriter` and
    :class:`~envparity.store.interface.SnapshotReader` over the functions above: it raises
    :class:`~envparity.store.interface.Declined` where they return None (see that module)."""

    kind = "PostgreSQL"

    def _save_rows(self, r: Any) -> Optional[Tuple[bool, str]]:
        return save_rows(r, self.url, timeout_s=self.timeout_s)

    def _find(self, ref: str, tags: bool) -> Optional[Found]:
        return _find(ref, self.url, self.timeout_s, tags=tags)


if TYPE_CHECKING:  # mypy holds the class to the protocols it implements
    from .interface import SnapshotReader, SnapshotWriter

    _AS_WRITER: SnapshotWriter = LeanPostgres()
    _AS_READER: SnapshotReader = LeanPostgres()
