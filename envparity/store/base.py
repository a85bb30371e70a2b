"""The Store's plumbing: its engine, transactions, error translation and reading rows back
into snapshots. The reads (:mod:`.resolving`, :mod:`.queries`) and the Store itself
(:mod:`.store`) build on it."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, TypeVar

from ..errors import BadInput, StoreError
from ..model import Snapshot
from . import sqlite as _sqlite
from .engine import _Deadline, _reason
from .rows import snapshot_from
from .url import db_timeout, shown, sqlite_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

MIN_PREFIX = 6
# A LIMIT both databases take (a 64-bit signed integer), and more rows than anyone lists.
_MAX_LIMIT = 2**31 - 1


def check_limit(limit: int) -> None:
    """BadInput for a ``--limit`` no database takes (before anything is opened or created)."""
    if not 1 <= limit <= _MAX_LIMIT:
        raise BadInput(f"--limit {limit}: give 1 to {_MAX_LIMIT}")
LATEST = "latest"
#: The longest ref taken to the database (ids, tags and selectors are far shorter).
MAX_REF_CHARS = 1024


_S = TypeVar("_S", bound="StoreBase")


class StoreBase:
    """What every part of :class:`~envparity.store.store.Store` shares."""

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

    def __enter__(self: _S) -> _S:
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

    def _has_table(self, name: str) -> bool:
        """Whether the store has ``name``: a store one step behind this envparity's head lacks
        the newest tables, which are optional to every reader (asked once per Store)."""
        import sqlalchemy as sa

        known: Dict[str, bool] = self.__dict__.setdefault("_tables_present", {})
        if name not in known:
            with self._read("reading the schema") as conn:
                known[name] = bool(sa.inspect(conn).has_table(name))
        return known[name]

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

    def _records_source(self) -> None:
        """Let content findings read this store's RECORD lists later (the Store does)."""
        raise NotImplementedError


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
