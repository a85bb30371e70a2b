"""The SQLAlchemy engine of a store: one per URL, with envparity's SQLite transaction handling,
PostgreSQL server-side timeouts and the client-side deadline that cuts off a hung server."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterator

from ..errors import StoreError
from ..inputs import stored_json
from ..redact import redact_value
from . import sqlite as _sqlite  # connections and causes, shared with the fast path
from .rows import dumps
from .url import DB_URL_ENV, shown, sqlite_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


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
