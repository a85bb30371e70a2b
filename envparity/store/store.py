"""The Store: save, get, resolve, list and tag snapshots in SQLite or PostgreSQL.

A snapshot is split on the way in: its identity (what the fingerprint hashes) goes to one
``environments`` row shared by every sighting of that environment, its instance-only values to a
``sightings`` row of its own. ``get`` merges them back into a Snapshot equal to the one saved.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import sqlite3
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BadInput, SchemaOutOfDate, StoreError, StoreTimeout
from ..inputs import stored_json
from ..model import Snapshot
from ..redact import redact_value
from . import migrate as _migrate
from . import sqlite as _sqlite  # connections and causes, shared with the fast path
from .rows import (
    JSON_FIELDS,
    content_digests,
    dumps,
    record_lines,
    record_rows,
    rows,
    snapshot_from,
)
from .url import DB_URL_ENV, db_timeout, resolve_url, shown, sqlite_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

MIN_PREFIX = 6
# A LIMIT both databases take (a 64-bit signed integer), and more rows than anyone lists.
_MAX_LIMIT = 2**31 - 1
LATEST = "latest"
#: The longest ref taken to the database (ids, tags and selectors are far shorter).
MAX_REF_CHARS = 1024


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SightingSummary(_Model):
    """One stored snapshot, as ``envparity list`` shows it."""

    snapshot_id: str
    fingerprint: str
    captured_at: datetime
    role: str = ""
    labels: Dict[str, str] = Field(default_factory=dict)
    hostname: Optional[str] = None
    python_version: str = ""
    package_count: int = 0
    tags: List[str] = Field(default_factory=list, description="Tags pointing at it, sorted.")


class TagEvent(_Model):
    """A tag set or moved: ``previous_snapshot_id`` is where it pointed before (None: new)."""

    name: str
    snapshot_id: str
    previous_snapshot_id: Optional[str] = None
    tagged_at: datetime


class EnvironmentGroup(_Model):
    """Every sighting of one environment (one fingerprint), counted."""

    fingerprint: str
    sightings: int
    hosts: int = Field(description="Distinct hostnames among the sightings.")
    first_seen: datetime
    last_seen: datetime
    latest_snapshot_id: str


class SchemaInfo(_Model):
    """Where the store is and which schema it has (``envparity db info`` / ``db current``)."""

    url: str = Field(description="Redacted.")
    dialect: str
    path: Optional[str] = Field(None, description="The SQLite file, when SQLite.")
    revision: Optional[str] = None
    head: str
    state: str = Field(description="empty, behind, current or ahead (a newer envparity's).")
    environments: Optional[int] = None
    sightings: Optional[int] = None
    tags: Optional[int] = None


def _reason(e: BaseException) -> str:
    """The first line of a database error, without SQL, parameters or credentials."""
    orig = getattr(e, "orig", None) or e
    text = str(orig).strip()
    line = text.splitlines()[0].strip() if text else type(orig).__name__
    return redact_value(line)[:300]


def _make_engine(url: str, timeout_s: float, *, create: bool = True) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = sa.engine.make_url(url)
        backend = parsed.get_backend_name()
    except (ArgumentError, ValueError):
        # Without a scheme there is no userinfo to redact: the whole text may be a secret.
        what = f"database URL {shown(url)!r}" if "://" in url else "the database URL"
        raise StoreError(
            f"{what} is not a URL envparity understands (from --db or {DB_URL_ENV}); "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from None
    if backend == "sqlite":
        path = sqlite_path(url)
        engine_args: Dict[str, Any] = {}
        if path:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise StoreError(
                    f"store {shown(url)}: directory {directory} does not exist; create it first"
                )
            # Our own connect: a read-only store opens read-only (and still serves reads), and a
            # store that must not be created is never left behind as an empty file.
            engine_args["creator"] = lambda: _sqlite.sqlite_connect(path, timeout_s, create=create)
        engine = sa.create_engine(
            url, json_serializer=dumps, json_deserializer=stored_json, **engine_args
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling would BEGIN DEFERRED behind our back; turn it
            # off and emit BEGIN ourselves (SQLAlchemy's "serializable isolation" recipe).
            dbapi_conn.isolation_level = None
            if not path:
                _sqlite.configure(dbapi_conn, path, timeout_s)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A deferred transaction that reads and then writes fails with "database is locked"
            # whatever the busy timeout; writers take the lock at BEGIN instead.
            write = conn.get_execution_options().get("envparity_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if backend == "postgresql":
        ms = max(1, int(timeout_s * 1000))
        try:
            return sa.create_engine(
                url,
                json_serializer=dumps,
                json_deserializer=stored_json,
                connect_args={
                    # libpq waits forever by default; its timeout is whole seconds (2 at least).
                    "connect_timeout": max(2, math.ceil(timeout_s)),
                    # A locked table or a slow statement: the server gives up after the timeout.
                    # The statement timeout a little later, or it fires first in a lock wait
                    # and hides the cause.
                    "options": f"-c lock_timeout={ms} -c statement_timeout={ms + 250}",
                },
            )
        except (NoSuchModuleError, ImportError, ModuleNotFoundError) as e:
            raise StoreError(
                f"store {shown(url)}: the PostgreSQL driver is not installed ({_reason(e)}); "
                "pip install 'envparity[postgres]' and use postgresql+psycopg://"
            ) from None
    raise StoreError(
        f"store {shown(url)}: {backend} is not supported; "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


class _Deadline:
    """The client side of ``ENVPARITY_DB_TIMEOUT``: an operation still waiting on PostgreSQL
    after the timeout has its connections' sockets shut down, so the blocked call fails at once.

    Server-side timeouts need a server that runs: a SIGSTOPped or wedged server answers nothing,
    and psycopg would wait on the socket forever.
    """

    def __init__(self, engine: Engine, timeout_s: float) -> None:
        from sqlalchemy import event

        self.timeout_s = timeout_s
        self.expired = False
        self._lock = threading.Lock()
        self._live: Dict[int, Any] = {}
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        with self._lock:
            self._live[id(dbapi_conn)] = dbapi_conn

    def _checkin(self, dbapi_conn: Any, _record: Any) -> None:
        with self._lock:
            self._live.pop(id(dbapi_conn), None)

    def _cut(self) -> None:
        import socket

        with self._lock:
            self.expired = True
            live = list(self._live.values())
        for dbapi_conn in live:
            try:
                fd = dbapi_conn.pgconn.socket
                sock = socket.socket(fileno=os.dup(fd))
            except Exception:
                continue  # closed meanwhile
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                sock.close()

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        self.expired = False
        # Half a second after the server's own timeouts, which name the cause when it can.
        timer = threading.Timer(self.timeout_s + 0.5, self._cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()


class Store:
    """Snapshots in a SQL database. Open one with :func:`open_store`; close it (or use ``with``)."""

    def __init__(self, url: str, engine: Engine, timeout_s: Optional[float] = None) -> None:
        self._url = url
        self.engine = engine
        self.timeout_s = db_timeout() if timeout_s is None else timeout_s
        self._deadline = (
            _Deadline(engine, self.timeout_s) if engine.dialect.name == "postgresql" else None
        )

    @property
    def url_redacted(self) -> str:
        """The database URL with any credentials redacted: the only form ever shown."""
        return shown(self._url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    def __repr__(self) -> str:
        return f"Store({self.url_redacted!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    # --- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        from sqlalchemy.exc import SQLAlchemyError

        guard = self._deadline.guard() if self._deadline else contextlib.nullcontext()
        try:
            with guard:
                yield
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self._failure(doing, e) from None

    def _failure(self, doing: str, e: BaseException) -> StoreError:
        """The StoreError for ``e``, with its real cause (a hung server, a full disk, ...)."""
        from .fast_pg import explain

        where = f"store {self.url_redacted}"
        expired = self._deadline is not None and self._deadline.expired
        if self.dialect == "sqlite" and not expired:
            why = _sqlite.cause(e, sqlite_path(self._url), self.timeout_s)
            return StoreError(f"{where}: {doing} failed: {why}")
        return explain(where, doing, _reason(e), self.timeout_s, expired)

    @contextlib.contextmanager
    def _read(self, doing: str) -> Iterator[Connection]:
        with self._errors(doing), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        with self._errors(doing), self.engine.connect() as conn:
            conn.execution_options(envparity_write=True)
            with conn.begin():
                yield conn

    def _insert_ignore(self, table: Any, *keys: str) -> Any:
        """INSERT ... ON CONFLICT (keys) DO NOTHING in this dialect."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql as dialect
        else:
            from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
        return dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys))

    def _inserted(self, conn: Connection, table: Any, key: str, row: Dict[str, Any]) -> bool:
        """Insert ``row`` unless its ``key`` is taken; True when this call inserted it."""
        statement = self._insert_ignore(table, key)
        if self.dialect == "postgresql":
            # psycopg reports no rowcount for this statement; RETURNING says it instead. SQLite
            # gets rowcount, which works before 3.35 (no RETURNING there).
            return conn.execute(statement.returning(table.c[key]), row).first() is not None
        return bool(conn.execute(statement, row).rowcount == 1)

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

        from ..collect.packages import RECORDS
        from . import tables as t

        digests = [d for d in digests if d in RECORDS]
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

    def _has_table(self, name: str) -> bool:
        """Whether the store has ``name``: a store one step behind this envparity's head lacks
        the newest tables, which are optional to every reader (asked once per Store)."""
        import sqlalchemy as sa

        known: Dict[str, bool] = self.__dict__.setdefault("_tables_present", {})
        if name not in known:
            with self._read("reading the schema") as conn:
                known[name] = bool(sa.inspect(conn).has_table(name))
        return known[name]

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

    # --- reading ------------------------------------------------------------------------------

    def _select_snapshots(self) -> Any:
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        return sa.select(
            s.c.snapshot_id,
            s.c.fingerprint,
            s.c.captured_at,
            s.c.role,
            s.c.labels,
            s.c.collection,
            s.c.numerics,
            s.c.benchmarks,
            s.c.instance,
            t.environments.c.identity,
        ).join(t.environments, t.environments.c.fingerprint == s.c.fingerprint)

    def _snapshot(self, row: Any) -> Snapshot:
        columns = row._asdict()
        columns["numerics"] = self._join_outputs(columns.get("numerics"))
        return snapshot_from(columns.pop("identity"), columns.pop("instance"), columns)

    def _join_outputs(self, numerics: Any) -> Any:
        """A sighting's numerics with their probe outputs read back from probe_outputs."""
        import sqlalchemy as sa

        from . import tables as t
        from .rows import join_outputs, output_keys

        keys = output_keys(numerics)
        if not keys:
            return numerics
        po = t.probe_outputs
        with self._read("reading probe outputs") as conn:
            query = sa.select(po.c.sha256, po.c.data).where(po.c.sha256.in_(keys))
            found = dict(conn.execute(query).all())
        return join_outputs(numerics, found)

    def get(self, snapshot_id: str) -> Snapshot:
        """The snapshot with exactly this id; BadInput when there is none."""
        from . import tables as t

        with self._read(f"reading snapshot {snapshot_id}") as conn:
            row = conn.execute(
                self._select_snapshots().where(t.sightings.c.snapshot_id == snapshot_id)
            ).first()
        if row is None:
            raise BadInput(
                f"snapshot {snapshot_id}: not in the store {self.url_redacted}; "
                "`envparity list` shows what is there"
            )
        return self._snapshot(row)

    def resolve(self, ref: str) -> Snapshot:
        """The snapshot ``ref`` names: a full id, a tag, ``latest[:role=R,k=v]``, or a unique id
        prefix of 6+ characters (in that order). Unknown or ambiguous: BadInput with candidates."""
        import sqlalchemy as sa

        from . import tables as t

        _records_from(self._url)
        ref = ref.strip()
        if not ref:
            raise BadInput("empty ref; give a snapshot id, a tag, `latest` or a JSON file")
        _check_text("ref", ref)
        if len(ref) > MAX_REF_CHARS:
            raise BadInput(
                f"ref {ref[:40]!r}... is {len(ref)} characters long; no snapshot id, tag or "
                f"selector is longer than {MAX_REF_CHARS}: check the ref"
            )
        if ref == LATEST or ref.startswith(LATEST + ":"):
            return self._latest(ref)
        from ..refspec import fingerprint_ref

        prefix = fingerprint_ref(ref)
        if prefix is not None:
            return self._latest_with_fingerprint(ref, prefix)
        s = t.sightings
        with self._read(f"resolving {ref!r}") as conn:
            row = conn.execute(self._select_snapshots().where(s.c.snapshot_id == ref)).first()
            if row is None:
                tagged = conn.execute(
                    sa.select(t.tags.c.snapshot_id).where(t.tags.c.name == ref)
                ).scalar_one_or_none()
                if tagged is not None:
                    row = conn.execute(
                        self._select_snapshots().where(s.c.snapshot_id == tagged)
                    ).first()
            if row is None and len(ref) >= MIN_PREFIX:
                matches = conn.execute(
                    sa.select(s.c.snapshot_id, s.c.role, s.c.captured_at)
                    .where(s.c.snapshot_id.startswith(ref, autoescape=True))
                    .order_by(s.c.captured_at.desc())
                    .limit(6)
                ).all()
                if len(matches) > 1:
                    listed = ", ".join(
                        f"{m.snapshot_id[:16]} ({m.role or 'no role'}, "
                        f"{m.captured_at:%Y-%m-%d %H:%M})"
                        for m in matches[:5]
                    )
                    more = " and more" if len(matches) > 5 else ""
                    raise BadInput(
                        f"ref {ref!r} is ambiguous: it starts {listed}{more}; give more characters"
                    )
                if matches:
                    row = conn.execute(
                        self._select_snapshots().where(s.c.snapshot_id == matches[0].snapshot_id)
                    ).first()
            if row is None:
                raise BadInput(f"ref {ref!r}: {self._nearest(conn, ref)}")
        return self._snapshot(row)

    def _nearest(self, conn: Connection, ref: str) -> str:
        """Why ``ref`` matched nothing, and the names closest to it."""
        import sqlalchemy as sa

        from . import tables as t

        tag_names = list(conn.execute(sa.select(t.tags.c.name)).scalars())
        recent = list(
            conn.execute(
                sa.select(t.sightings.c.snapshot_id)
                .order_by(t.sightings.c.captured_at.desc())
                .limit(500)
            ).scalars()
        )
        ids = {sid[: max(12, len(ref))]: sid for sid in recent}
        near = difflib.get_close_matches(ref, tag_names + list(ids), n=5, cutoff=0.5)
        why = (
            f"no snapshot id, tag or id prefix matches it in {self.url_redacted}"
            if len(ref) >= MIN_PREFIX
            else f"not a tag in {self.url_redacted}, and id prefixes need {MIN_PREFIX}+ characters"
        )
        if near:
            return f"{why}; nearest: {', '.join(near)}"
        if recent:
            return f"{why}; `envparity list` shows what is stored (latest: {recent[0][:12]})"
        return f"{why}; the store is empty: take one with `envparity snapshot`"

    def _latest_with_fingerprint(self, ref: str, prefix: str) -> Snapshot:
        """The latest snapshot whose fingerprint starts with ``prefix`` (one environment)."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        with self._read(f"resolving {ref!r}") as conn:
            fingerprints = list(
                conn.execute(
                    sa.select(s.c.fingerprint)
                    .where(s.c.fingerprint.startswith(prefix, autoescape=True))
                    .distinct()
                    .limit(3)
                ).scalars()
            )
            if len(fingerprints) > 1:
                raise BadInput(
                    f"ref {ref!r} is ambiguous: fingerprints "
                    f"{', '.join(f[:16] for f in fingerprints)} match; give more characters"
                )
            if not fingerprints:
                from .scrub import alias_of  # scrubbed by `db scrub`: the old one names the new

                fingerprints = [f for f in [alias_of(conn, prefix)] if f]
            if not fingerprints:
                raise BadInput(
                    f"ref {ref!r}: no stored snapshot has that fingerprint in "
                    f"{self.url_redacted}; `envparity fleet` lists the environments seen"
                )
            row = conn.execute(
                self._select_snapshots()
                .where(s.c.fingerprint == fingerprints[0])
                .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
                .limit(1)
            ).first()
        assert row is not None
        return self._snapshot(row)

    def _latest(self, ref: str) -> Snapshot:
        from . import tables as t

        role, labels = parse_latest(ref)
        s = t.sightings
        query = (
            self._select_snapshots()
            .where(*self._filters(role=role, labels=labels))
            .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
            .limit(1)
        )
        with self._read(f"resolving {ref!r}") as conn:
            row = conn.execute(query).first()
        if row is None:
            raise BadInput(
                f"ref {ref!r}: no stored snapshot matches in {self.url_redacted}; "
                "`envparity list --role R --label k=v` shows what is stored"
            )
        return self._snapshot(row)

    def _filters(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[Any]:
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        where: List[Any] = []
        if role is not None:
            _check_text("--role", role)
            where.append(s.c.role == role)
        for key, value in (labels or {}).items():
            _check_text("--label", f"{key}={value}")
            if self.dialect == "sqlite":
                # SQLite's JSON path syntax cannot quote every key (a `"` in it never matches);
                # json_each compares the key as a value, so any key matches as on PostgreSQL.
                each = sa.func.json_each(s.c.labels).table_valued("key", "value")
                where.append(
                    sa.exists()
                    .select_from(each)
                    .where(each.c.key == key, each.c.value == value)
                )
            else:
                where.append(s.c.labels[key].as_string() == value)
        if since is not None:
            if since.tzinfo is None:
                raise BadInput("since: give an aware datetime (UTC)")
            where.append(s.c.captured_at >= since)
        return where

    def list_snapshots(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
        limit: int = 50,
    ) -> List[SightingSummary]:
        """Stored snapshots, newest first, filtered by role, labels and capture time."""
        import sqlalchemy as sa

        from . import tables as t

        if not 1 <= limit <= _MAX_LIMIT:
            raise BadInput(f"--limit {limit}: give 1 to {_MAX_LIMIT}")
        s, e = t.sightings, t.environments
        query = (
            sa.select(
                s.c.snapshot_id,
                s.c.fingerprint,
                s.c.captured_at,
                s.c.role,
                s.c.labels,
                s.c.hostname,
                e.c.python_version,
                e.c.package_count,
            )
            .join(e, e.c.fingerprint == s.c.fingerprint)
            .where(*self._filters(role=role, labels=labels, since=since))
            .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
            .limit(limit)
        )
        with self._read("listing snapshots") as conn:
            rows = conn.execute(query).all()
            ids = [r.snapshot_id for r in rows]
            tagged: Dict[str, List[str]] = {}
            if ids:
                for name, sid in conn.execute(
                    sa.select(t.tags.c.name, t.tags.c.snapshot_id).where(
                        t.tags.c.snapshot_id.in_(ids)
                    )
                ):
                    tagged.setdefault(sid, []).append(name)
        return [
            SightingSummary(
                snapshot_id=r.snapshot_id,
                fingerprint=r.fingerprint,
                captured_at=r.captured_at,
                role=r.role,
                labels=r.labels,
                hostname=r.hostname,
                python_version=r.python_version,
                package_count=r.package_count,
                tags=sorted(tagged.get(r.snapshot_id, [])),
            )
            for r in rows
        ]

    def tag_history(self, name: str) -> List[TagEvent]:
        """Every time tag ``name`` was set or moved, newest first; BadInput for an unknown tag."""
        import sqlalchemy as sa

        from . import tables as t

        h = t.tag_history
        with self._read(f"reading the history of tag {name}") as conn:
            rows = conn.execute(
                sa.select(h.c.name, h.c.snapshot_id, h.c.previous_snapshot_id, h.c.tagged_at)
                .where(h.c.name == name)
                .order_by(h.c.id.desc())
            ).all()
            if not rows:
                names = list(conn.execute(sa.select(t.tags.c.name)).scalars())
                near = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
                hint = f"; nearest: {', '.join(near)}" if near else ""
                raise BadInput(f"tag {name!r}: no such tag in {self.url_redacted}{hint}")
        return [TagEvent.model_validate(r._asdict()) for r in rows]

    def environment_groups(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[EnvironmentGroup]:
        """Sightings grouped by environment, most recently seen first (one GROUP BY in SQL).

        Without ``labels`` or ``since`` the rollup answers (one row per environment, role and
        host, kept by triggers), so the cost follows the fleet's environments, not its
        sightings; a label or time filter counts the matching sightings themselves.
        """
        import sqlalchemy as sa

        from . import tables as t

        if not labels and since is None and self._has_table("sighting_rollup"):
            return self._rolled_up(role)
        s = t.sightings
        where = self._filters(role=role, labels=labels, since=since)
        groups = (
            sa.select(
                s.c.fingerprint,
                sa.func.count().label("sightings"),
                # An empty hostname is no host, as NULL is not (the rollup's '' means both).
                sa.func.count(sa.distinct(sa.func.nullif(s.c.hostname, ""))).label("hosts"),
                sa.func.min(s.c.captured_at).label("first_seen"),
                sa.func.max(s.c.captured_at).label("last_seen"),
            )
            .where(*where)
            .group_by(s.c.fingerprint)
            .subquery()
        )
        # The newest sighting of each group: join back on (fingerprint, last_seen).
        latest = (
            sa.select(groups, s.c.snapshot_id)
            .join(
                s,
                sa.and_(
                    s.c.fingerprint == groups.c.fingerprint,
                    s.c.captured_at == groups.c.last_seen,
                ),
            )
            .where(*where)
            .order_by(groups.c.last_seen.desc(), s.c.snapshot_id.desc())
        )
        with self._read("grouping environments") as conn:
            rows = conn.execute(latest).all()
        result: Dict[str, EnvironmentGroup] = {}
        for r in rows:
            if r.fingerprint in result:  # two sightings at the same instant: keep the first
                continue
            # min/max keep the column's type, so these are aware UTC datetimes on both dialects.
            result[r.fingerprint] = EnvironmentGroup(
                fingerprint=r.fingerprint,
                sightings=r.sightings,
                hosts=r.hosts,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                latest_snapshot_id=r.snapshot_id,
            )
        return list(result.values())

    def _rolled_up(self, role: Optional[str]) -> List[EnvironmentGroup]:
        """:meth:`environment_groups` from ``sighting_rollup`` (migration 0004)."""
        import sqlalchemy as sa

        from . import tables as t

        r = t.sighting_rollup
        where = [r.c.role == role] if role is not None else []
        if role is not None:
            _check_text("--role", role)
        groups = (
            sa.select(
                r.c.fingerprint,
                sa.func.sum(r.c.sightings).label("sightings"),
                # '' is "no hostname": not a host, as count(DISTINCT hostname) skips NULL.
                sa.func.count(sa.distinct(sa.func.nullif(r.c.host, ""))).label("hosts"),
                sa.func.min(r.c.first_seen).label("first_seen"),
                sa.func.max(r.c.last_seen).label("last_seen"),
            )
            .where(*where)
            .group_by(r.c.fingerprint)
            .subquery()
        )
        latest = (
            sa.select(groups, r.c.latest_snapshot_id)
            .join(
                r,
                sa.and_(
                    r.c.fingerprint == groups.c.fingerprint,
                    r.c.last_seen == groups.c.last_seen,
                ),
            )
            .where(*where)
            .order_by(groups.c.last_seen.desc(), r.c.latest_snapshot_id.desc())
        )
        with self._read("grouping environments") as conn:
            rows = conn.execute(latest).all()
        result: Dict[str, EnvironmentGroup] = {}
        for row in rows:
            if row.fingerprint in result:  # the newest first: keep it
                continue
            result[row.fingerprint] = EnvironmentGroup(
                fingerprint=row.fingerprint,
                sightings=int(row.sightings),
                hosts=row.hosts,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                latest_snapshot_id=row.latest_snapshot_id,
            )
        return list(result.values())

    def schema_versions(self, fingerprints: List[str]) -> Dict[str, int]:
        """The snapshot schema version of each environment given that is stored (one indexed
        query on a column: cheap enough to ask for every environment of a fleet view)."""
        import sqlalchemy as sa

        from . import tables as t

        e = t.environments
        found: Dict[str, int] = {}
        with self._read("reading environments") as conn:
            for i in range(0, len(fingerprints), 500):
                query = sa.select(e.c.fingerprint, e.c.schema_version).where(
                    e.c.fingerprint.in_(fingerprints[i : i + 500])
                )
                found.update((fp, int(version)) for fp, version in conn.execute(query))
        return found

    def identities(self, fingerprints: List[str]) -> Dict[str, Dict[str, Any]]:
        """The identity (what the fingerprint hashes, as plain data) of each environment given
        that is stored, in one query: what ``fleet`` compares when no sighting adds to it."""
        import sqlalchemy as sa

        from . import tables as t

        e = t.environments
        found: Dict[str, Dict[str, Any]] = {}
        with self._read("reading environments") as conn:
            for i in range(0, len(fingerprints), 500):
                query = sa.select(e.c.fingerprint, e.c.identity).where(
                    e.c.fingerprint.in_(fingerprints[i : i + 500])
                )
                found.update((fp, identity) for fp, identity in conn.execute(query))
        return found

    def sighting_parts(self, snapshot_ids: List[str]) -> Dict[str, Dict[str, Any]]:
        """Per sighting given: its ``collection`` (probe errors) and whether it carries
        ``numerics`` or ``benchmarks``, in one query: what decides whether a comparison with
        its environment's identity alone is the whole comparison."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        found: Dict[str, Dict[str, Any]] = {}
        with self._read("reading sightings") as conn:
            for i in range(0, len(snapshot_ids), 500):
                query = sa.select(
                    s.c.snapshot_id,
                    s.c.collection,
                    s.c.numerics.is_not(None).label("numerics"),
                    s.c.benchmarks.is_not(None).label("benchmarks"),
                ).where(s.c.snapshot_id.in_(snapshot_ids[i : i + 500]))
                for row in conn.execute(query):
                    found[row.snapshot_id] = {
                        "collection": row.collection,
                        "numerics": bool(row.numerics),
                        "benchmarks": bool(row.benchmarks),
                    }
        return found

    def roles(
        self,
        *,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[str]:
        """The distinct roles of the sightings (matching ``labels`` and ``since``), sorted."""
        import sqlalchemy as sa

        from . import tables as t

        if not labels and since is None and self._has_table("sighting_rollup"):
            r = t.sighting_rollup.c.role
            query = sa.select(r).distinct().order_by(r)
        else:
            where = self._filters(role=None, labels=labels, since=since)
            role = t.sightings.c.role
            query = sa.select(role).where(*where).distinct().order_by(role)
        with self._read("listing roles") as conn:
            return [str(r) for r in conn.execute(query).scalars()]

    def get_environment(self, fingerprint: str) -> Snapshot:
        """The newest snapshot of the environment with this fingerprint (or unique 6+ prefix)."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        with self._read(f"reading environment {fingerprint}") as conn:
            fps = list(
                conn.execute(
                    sa.select(t.environments.c.fingerprint)
                    .where(t.environments.c.fingerprint.startswith(fingerprint, autoescape=True))
                    .limit(6)
                ).scalars()
            )
            if fingerprint in fps:
                fps = [fingerprint]
            if not fps and len(fingerprint) >= MIN_PREFIX:
                from .scrub import alias_of  # scrubbed by `db scrub`: the old one names the new

                fps = [f for f in [alias_of(conn, fingerprint)] if f]
            if len(fps) != 1 or len(fingerprint) < MIN_PREFIX:
                why = "is ambiguous" if len(fps) > 1 else "matches no stored environment"
                listed = f": {', '.join(f[:16] for f in fps[:5])}" if len(fps) > 1 else ""
                raise BadInput(f"fingerprint {fingerprint!r} {why}{listed} in {self.url_redacted}")
            row = conn.execute(
                self._select_snapshots()
                .where(s.c.fingerprint == fps[0])
                .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
                .limit(1)
            ).first()
        if row is None:
            raise BadInput(f"fingerprint {fingerprint!r}: no sighting of it is stored")
        return self._snapshot(row)


def _check_text(what: str, text: str) -> None:
    """BadInput for text that is not valid Unicode (argv bytes that were not UTF-8 arrive as
    lone surrogates, which no database can store or compare)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown_text = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise BadInput(
            f"{what} {shown_text!r}: not valid UTF-8 text; give the value in UTF-8"
        ) from None


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


def parse_latest(ref: str) -> Tuple[Optional[str], Dict[str, str]]:
    """``latest:role=serving,model=fraud`` -> (``serving``, ``{"model": "fraud"}``)."""
    from ..labels import parse_items

    _, _, spec = ref.partition(":")
    try:
        labels = parse_items(spec.split(","), f"ref {ref!r}:")
    except BadInput:
        raise BadInput(
            f"ref {ref!r}: each part must be KEY=VALUE; e.g. latest:role=serving,model=fraud"
        ) from None
    role = labels.pop("role", None)
    return role, labels


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
