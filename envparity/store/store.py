"""The Store: save, get, resolve, list and tag snapshots in SQLite or PostgreSQL.

A snapshot is split on the way in: its identity (what the fingerprint hashes) goes to one
``environments`` row shared by every sighting of that environment, its instance-only values to a
``sightings`` row of its own. ``get`` merges them back into a Snapshot equal to the one saved.

The Store is assembled from :mod:`.base` (plumbing), :mod:`.resolving` (naming a snapshot) and
:mod:`.queries` (listings); this module adds the schema, writing, tags and opening a store.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ..errors import BadInput, SchemaOutOfDate, StoreTimeout
from ..model import Snapshot
from . import migrate as _migrate
from .base import LATEST as LATEST
from .base import MAX_REF_CHARS as MAX_REF_CHARS
from .base import MIN_PREFIX as MIN_PREFIX
from .engine import _make_engine
from .queries import Queries
from .resolving import Resolving
from .resolving import parse_latest as parse_latest
from .rows import JSON_FIELDS, content_digests, record_lines, record_rows, rows
from .url import db_timeout, resolve_url, shown, sqlite_path
from .views import EnvironmentGroup as EnvironmentGroup
from .views import SchemaInfo as SchemaInfo
from .views import SightingSummary as SightingSummary
from .views import TagEvent as TagEvent

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Store(Resolving, Queries):
    """Snapshots in a SQL database. Open one with :func:`open_store`; close it (or use ``with``)."""

    def _check_schema(self, migrate: bool) -> None:
        with self._errors("reading the schema version"), self.engine.connect() as conn:
            revision = _migrate.current_revision(conn)
            floor = _migrate.min_reader(conn, revision)
        status = _migrate.state(revision)
        if _migrate.usable(revision, floor):
            return
        if status == "ahead":
            raise self._newer(revision, floor)
        path = sqlite_path(self._url)
        if status == "empty" and path:
            _migrate.check_sqlite_file(path, self.url_redacted)
        if not migrate:
            what = "has no envparity schema" if status == "empty" else f"is at {revision}"
            raise SchemaOutOfDate(
                f"store {self.url_redacted} {what}, this envparity needs {_migrate.HEAD}; "
                "run `envparity db upgrade`"
            )
        self.upgrade()

    def _newer(self, revision: Optional[str], floor: Optional[str] = None) -> SchemaOutOfDate:
        why = (
            f"it needs a client at schema {floor} or newer"
            if floor
            else "it does not say that older clients may use it"
        )
        return SchemaOutOfDate(
            f"store {self.url_redacted} was written by a newer envparity (schema {revision}, "
            f"this one knows up to {_migrate.HEAD}; {why}); upgrade envparity, the store is "
            "left as is"
        )

    # --- schema -------------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> Optional[str]:
        """Migrate the schema (under a lock, so concurrent upgrades are safe); returns the
        revision it was at. A schema from a newer envparity raises and is left untouched."""
        path = sqlite_path(self._url)
        if path:
            _migrate.check_sqlite_file(path, self.url_redacted)
        with self._errors("migrating the schema"):
            before = _migrate.upgrade(self.engine, revision, self.timeout_s)
        if _migrate.state(before) == "ahead":
            raise self._newer(before)
        return before

    def downgrade(self, revision: str) -> None:
        """Migrate down to ``revision`` (``base``: no tables). For tests and recovery."""
        with self._errors("downgrading the schema"):
            _migrate.downgrade(self.engine, revision, self.timeout_s)

    def schema_info(self) -> SchemaInfo:
        """Where the store is, its schema revision against this envparity's, and row counts."""
        import sqlalchemy as sa

        from . import tables as t

        path = sqlite_path(self._url)
        with self._read("reading the schema version") as conn:
            revision = _migrate.current_revision(conn)
            status = _migrate.state(revision)
            if status == "empty" and path:
                # "empty" only when it is: a damaged or foreign file says so.
                _migrate.check_sqlite_file(path, self.url_redacted)
            floor = _migrate.min_reader(conn, revision)
            counts: Dict[str, Optional[int]] = dict.fromkeys(("environments", "sightings", "tags"))
            if _migrate.usable(revision, floor):
                for name, table in (
                    ("environments", t.environments),
                    ("sightings", t.sightings),
                    ("tags", t.tags),
                ):
                    counts[name] = conn.execute(
                        sa.select(sa.func.count()).select_from(table)
                    ).scalar_one()
        return SchemaInfo(
            url=self.url_redacted,
            dialect=self.dialect,
            path=os.path.abspath(path) if path else None,
            revision=revision,
            head=_migrate.HEAD,
            state=status,
            **counts,
        )

    # --- writing ------------------------------------------------------------------------------

    def save(self, snapshot: Snapshot) -> bool:
        """Store ``snapshot``; True if it is new, False if its snapshot_id was already stored.

        Its environment is stored once whatever the number of sightings. A snapshot whose
        ``fingerprint`` does not match its content (edited by hand) is refused: it would be filed
        under another environment.
        """
        import sqlalchemy as sa

        from . import tables as t

        r = rows(snapshot)
        sighting = dict(r.sighting)
        for name in JSON_FIELDS:
            if sighting[name] is None:
                sighting[name] = sa.null()  # SQL NULL, not JSON null
        with self._write(f"saving snapshot {snapshot.snapshot_id}") as conn:
            known = conn.execute(
                sa.select(t.environments.c.fingerprint).where(
                    t.environments.c.fingerprint == r.fingerprint
                )
            ).first()
            if known is None:
                created = self._inserted(conn, t.environments, "fingerprint", r.environment)
                if created and r.packages:
                    conn.execute(
                        self._insert_ignore(t.packages, "fingerprint", "name", "version"),
                        r.packages,
                    )
                if created:
                    self._save_records(conn, content_digests(r.environment["identity"]))
            self._save_outputs(conn, r.outputs)
            return self._inserted(conn, t.sightings, "snapshot_id", sighting)

    def _save_records(self, conn: Connection, digests: List[str]) -> None:
        """RECORD lists by content (migration 0005): those read here and not yet stored."""
        import sqlalchemy as sa

        from ..collect.packages import read_here
        from . import tables as t

        digests = [d for d in digests if read_here(d)]
        if not digests or not sa.inspect(conn).has_table("records"):
            return  # nothing read here, or a store one step behind (before 0005)
        have = {
            row[0]
            for row in conn.execute(
                sa.select(t.records.c.digest).where(t.records.c.digest.in_(digests))
            )
        }
        new = record_rows([d for d in digests if d not in have], datetime.now(timezone.utc))
        if new:
            conn.execute(self._insert_ignore(t.records, "digest"), new)

    def records(self, digests: List[str]) -> Dict[str, List[str]]:
        """The stored RECORD lines (``path,hash``) of these content digests, by digest."""
        import sqlalchemy as sa

        from . import tables as t

        if not digests:
            return {}
        if not self._has_table("records"):
            return {}  # a store one step behind (before 0005)
        with self._read("reading RECORD lists") as conn:
            found = conn.execute(
                sa.select(t.records.c.digest, t.records.c.data).where(
                    t.records.c.digest.in_(sorted(set(digests)))
                )
            ).all()
        return {digest: record_lines(data) for digest, data in found}

    def _save_outputs(self, conn: Connection, outputs: List[Dict[str, Any]]) -> None:
        """Probe outputs by content: one row per distinct sha256, however many sightings."""
        from . import tables as t

        if outputs:
            conn.execute(self._insert_ignore(t.probe_outputs, "sha256"), outputs)

    def tag(self, ref: str, name: str) -> Snapshot:
        """Point tag ``name`` at the snapshot ``ref`` names; moving a tag keeps its history."""
        import sqlalchemy as sa

        from . import tables as t

        _check_tag_name(name)
        snap = self.resolve(ref)
        now = datetime.now(timezone.utc)
        with self._write(f"tagging {snap.snapshot_id} as {name}") as conn:
            previous = conn.execute(
                sa.select(t.tags.c.snapshot_id).where(t.tags.c.name == name)
            ).scalar_one_or_none()
            if previous == snap.snapshot_id:
                return snap
            if previous is None:
                conn.execute(
                    sa.insert(t.tags),
                    {"name": name, "snapshot_id": snap.snapshot_id, "tagged_at": now},
                )
            else:
                conn.execute(
                    sa.update(t.tags)
                    .where(t.tags.c.name == name)
                    .values(snapshot_id=snap.snapshot_id, tagged_at=now)
                )
            conn.execute(
                sa.insert(t.tag_history),
                {
                    "name": name,
                    "snapshot_id": snap.snapshot_id,
                    "previous_snapshot_id": previous,
                    "tagged_at": now,
                },
            )
        return snap

    def _records_source(self) -> None:
        _records_from(self._url)


def _check_tag_name(name: str) -> None:
    if (
        not name
        or not name.isprintable()  # ESC, BEL, bidi controls, lone surrogates (non-UTF-8 argv)
        or name != name.strip()
        or any(c.isspace() for c in name)
        or name == LATEST
        or name.startswith(LATEST + ":")
        or name.endswith(".json")
        or "/" in name
        or os.sep in name
        or len(name) > 200
    ):
        raise BadInput(
            f"tag name {name!r}: use letters, digits and -_.:@ (no spaces or slashes, not "
            "`latest`, not ending in .json, at most 200 characters), e.g. fraud-train"
        )


def connect(
    url: Optional[str] = None,
    *,
    timeout_s: Optional[float] = None,
    connect_timeout_s: Optional[float] = None,
    create: bool = True,
) -> Store:
    """A Store on ``url`` without checking or migrating its schema (``envparity db`` uses it).

    ``timeout_s`` (default ``ENVPARITY_DB_TIMEOUT``, 10 s) bounds connecting, each statement and
    each lock wait; ``connect_timeout_s`` is its older name. Without ``create`` a SQLite file that
    does not exist is not created.
    """
    resolved = resolve_url(url)
    timeout = timeout_s if timeout_s is not None else connect_timeout_s
    if timeout is None:
        timeout = db_timeout()
    return Store(resolved, _make_engine(resolved, timeout, create=create), timeout)


def _records_from(url: str) -> None:
    """Let a content finding name files from this store's RECORD lists, read only when one is
    made (rare): snapshots resolved here may be compared after the store is closed."""
    from ..collect.packages import RECORD_SOURCES

    def read(digests: List[str]) -> Dict[str, List[str]]:
        with open_store(url, migrate=False) as store:
            return store.records(digests)

    RECORD_SOURCES.setdefault(url, read)


def open_store(
    url: Optional[str] = None,
    *,
    migrate: bool = True,
    timeout_s: Optional[float] = None,
    connect_timeout_s: Optional[float] = None,
) -> Store:
    """Open the store at ``url`` (else ``ENVPARITY_DB_URL``, else the SQLite default).

    With ``migrate`` (the default) an empty or older schema is migrated first, under a lock (a
    SQLite file only when it is empty or envparity's); a schema this envparity uses as it is (one
    step behind, or a newer one whose ``schema_compat`` row names this one) is left alone. The
    commands open stores through :func:`open_reader` and :func:`open_writer`. Without it, it
    raises :class:`SchemaOutOfDate` saying to run ``envparity db upgrade`` (and a SQLite file
    that does not exist is not created). A schema from a newer envparity that does not name this
    one raises and is never touched. A SQLite file this call created is removed again when creating
    its schema fails (a full disk, a read-only directory): no empty store is left behind. Use it
    as a context manager, or call ``close()``.
    """
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    new_file = bool(path) and not os.path.exists(path or "")
    if new_file and not migrate:
        raise SchemaOutOfDate(
            f"store {shown(resolved)} does not exist yet (no envparity schema); "
            "run `envparity db upgrade` (or `envparity snapshot`) to create it"
        )
    store = connect(resolved, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)
    try:
        store._check_schema(migrate)
    except BaseException as e:
        store.close()
        if new_file and path and not isinstance(e, StoreTimeout) and "locked" not in str(e):
            _remove_if_empty(path)
        raise
    return store


def open_reader(url: Optional[str] = None, *, timeout_s: Optional[float] = None) -> Store:
    """The store as a command that only reads opens it: never created, migrated or written. A
    schema it cannot read says to run ``envparity db upgrade``."""
    return open_store(url, migrate=False, timeout_s=timeout_s)


def open_writer(url: Optional[str] = None, *, timeout_s: Optional[float] = None) -> Store:
    """The store as a command that writes opens it: a SQLite store (new, empty, or an older
    envparity file) is migrated first under its lock; a PostgreSQL store only ever by
    ``envparity db upgrade``, since a fleet shares it with older clients."""
    resolved = resolve_url(url)
    return open_store(resolved, migrate=sqlite_path(resolved) is not None, timeout_s=timeout_s)


def _remove_if_empty(path: str) -> None:
    """Delete a SQLite file (and its WAL side files) that holds no table: what a failed first
    open leaves. A file with any table may be another process's store: it stays."""
    try:
        conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True, timeout=0)
        try:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        tables = 0 if os.path.exists(path) and os.path.getsize(path) <= 4096 else 1
    if tables:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(path + suffix)
        except OSError:
            pass
