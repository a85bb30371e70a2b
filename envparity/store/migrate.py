"""Schema migrations: Alembic driven from code, so an installed wheel can migrate itself.

The scripts live in the top-level ``migrations/`` directory, which the wheel ships as the package
``envparity._migrations``. Reading the schema's revision needs no Alembic (it is one SELECT), so
the common path, a store already at head, never imports it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# Every revision in order, oldest first. A test checks this against the scripts, so a new
# migration that is not listed here fails CI instead of being mistaken for "a newer envparity".
REVISIONS = (
    "0001_initial", "0002_probe_outputs", "0003_compat", "0004_rollup", "0005_records",
    "0006_tag_guard",
)
HEAD = REVISIONS[-1]

VERSION_TABLE = "alembic_version"

# Every migration is additive and writes one row here: (its revision, the oldest client schema
# that may still read and write a store at it). A client accepts a newer head whose row names a
# revision it knows, and refuses one whose row does not (or that has none).
COMPAT_TABLE = "schema_compat"

# The oldest store revision this envparity reads and writes as it is, without migrating it: the
# tables added since are optional to it (a store one step behind keeps serving a fleet whose
# containers were upgraded before `envparity db upgrade` ran).
OLDEST_STORE = "0002_probe_outputs"

# pg_advisory_xact_lock key: any constant bigint unique to envparity ("envprty" in ASCII).
_PG_LOCK_KEY = 0x656E7670727479


def script_location() -> str:
    """The migrations directory: inside the installed wheel, else the source checkout's."""
    try:
        spec = importlib.util.find_spec("envparity._migrations")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return list(spec.submodule_search_locations)[0]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "migrations")


def current_revision(conn: Connection) -> Optional[str]:
    """The schema's revision, or None for a database envparity has never written to."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    row = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return row[0] if row else None


def state(revision: Optional[str]) -> str:
    """``empty``, ``behind``, ``current`` or ``ahead`` (written by a newer envparity)."""
    if revision is None:
        return "empty"
    if revision == HEAD:
        return "current"
    return "behind" if revision in REVISIONS else "ahead"


def check_sqlite_file(path: str, shown_url: str) -> None:
    """Raise unless the SQLite file at ``path`` may be migrated: missing, empty, or envparity's.

    A database with other tables is someone else's (BadInput: envparity never adds its tables to
    it); a file SQLite cannot read, or whose pages are damaged (``PRAGMA quick_check``), raises
    StoreError saying so, instead of the error a migration would hit on it later ("table
    environments already exists").
    """
    import sqlite3
    from urllib.parse import quote

    from ..errors import BadInput, StoreError

    where = os.path.abspath(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    damaged = (
        f"store {shown_url}: {where} is damaged or not a SQLite database ({{}}); move it aside "
        "(envparity creates a new store) or restore it from a backup"
    )
    try:
        conn = sqlite3.connect(f"file:{quote(where)}?mode=ro", uri=True, timeout=1)
        try:
            names = sorted(
                str(r[0])
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            )
            checked = quick_check(conn) if names else None
            problem = f"quick_check: {checked}" if checked else None
            if problem is None and VERSION_TABLE in names:
                rows = conn.execute(f"SELECT count(*) FROM {VERSION_TABLE}").fetchone()[0]
                if not rows and len(names) > 1:
                    problem = f"{VERSION_TABLE} has lost its row beside the other tables"
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise StoreError(damaged.format(str(e).strip() or type(e).__name__)) from None
    if problem:
        raise StoreError(damaged.format(problem))
    ours = {VERSION_TABLE, "environments", "sightings", "tags"}
    if names and not ours.intersection(names):
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise BadInput(
            f"store {shown_url}: {where} is a SQLite database that is not an envparity store "
            f"(it has the tables {listed}); envparity leaves it alone: give --db a new file or "
            "an envparity store"
        )
    if names and VERSION_TABLE not in names:
        raise StoreError(damaged.format("envparity tables without a schema version"))


def quick_check(conn: Any) -> Optional[str]:
    """SQLite's ``PRAGMA quick_check`` on a stdlib connection: None when the pages are sound,
    else its first complaint."""
    import sqlite3

    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.Error as e:
        return str(e).strip() or type(e).__name__
    first = str(rows[0][0]) if rows else "ok"
    return None if first == "ok" else first


def min_reader(conn: Connection, revision: Optional[str]) -> Optional[str]:
    """The oldest client schema the store at ``revision`` says may use it (None: it says
    nothing, as stores from before the compat table do)."""
    import sqlalchemy as sa

    if revision is None or not sa.inspect(conn).has_table(COMPAT_TABLE):
        return None
    row = conn.execute(
        sa.text(f"SELECT min_reader FROM {COMPAT_TABLE} WHERE revision = :r"), {"r": revision}
    ).first()
    return str(row[0]) if row else None


def usable(revision: Optional[str], floor: Optional[str]) -> bool:
    """True when this envparity reads and writes a store at ``revision`` as it is: this head, a
    store at most as old as :data:`OLDEST_STORE`, or a newer head whose compat row (``floor``,
    its ``min_reader``) names a revision this envparity knows."""
    if revision is None:
        return False
    if revision in REVISIONS:
        return REVISIONS.index(revision) >= REVISIONS.index(OLDEST_STORE)
    return floor is not None and floor in REVISIONS


@contextlib.contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A write transaction that only one migrator at a time holds.

    SQLite: BEGIN IMMEDIATE takes the write lock up front. PostgreSQL: a transaction-scoped
    advisory lock, released at commit; its DDL is transactional, so a failed migration leaves
    nothing behind.
    """
    import sqlalchemy as sa

    with engine.connect() as conn:
        conn.execution_options(envparity_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn


# Seconds a process waits for another's SQLite migration (ENVPARITY_DB_TIMEOUT when longer).
MIGRATION_WAIT_S = 120.0

# Migration locks this process holds, by lock file, with their depth: the fast path takes the
# lock and then migrates through the SQLAlchemy store, which takes it again.
_HELD: Dict[str, int] = {}


def lock_path(db_path: str) -> str:
    """The lock file beside a SQLite store that its migrators hold (``store.db.lock``)."""
    return os.path.abspath(db_path) + ".lock"


@contextlib.contextmanager
def file_lock(db_path: str, timeout_s: float) -> Iterator[bool]:
    """Hold the migration lock of the SQLite store at ``db_path`` (an exclusive ``flock`` on
    ``store.db.lock``, waiting up to ``timeout_s``); yields True while held.

    SQLite's own write lock is no queue: sixteen first starts each wait in SQLite's busy loop
    while one migrates, then each imports Alembic only to find nothing to do. Behind this lock
    they wait without spinning, and find the schema made. Yields False (and locks nothing) where
    no lock file can be made: a read-only directory, where nothing can be migrated anyway.
    Re-entrant within a process. Raises :class:`StoreTimeout` after ``timeout_s`` or
    :data:`MIGRATION_WAIT_S`, whichever is longer.
    """
    import fcntl
    import time

    from ..errors import StoreTimeout

    path = lock_path(db_path)
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield True
        finally:
            _HELD[path] -= 1
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        yield False
        return
    # A live migrator is waited for longer than one statement: it imports Alembic under the lock
    # on a machine that sixteen containers starting together keep busy. A dead one releases it.
    wait_s = max(timeout_s, MIGRATION_WAIT_S)
    try:
        deadline = time.monotonic() + wait_s
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreTimeout(
                        f"{os.path.abspath(db_path)} is being migrated by another process for "
                        f"longer than {wait_s:g} s (it holds {path}); is it hung? Retry, or "
                        "stop it"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        _HELD[path] = 1
        try:
            yield True
        finally:
            del _HELD[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _sqlite_file(engine: Engine) -> Optional[str]:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


def _config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location())
    config.attributes["connection"] = conn
    return config


def upgrade(
    engine: Engine, revision: str = "head", timeout_s: float = 10.0
) -> Optional[str]:
    """Migrate to ``revision`` under the migration locks (SQLite: the lock file beside it, then
    its write lock; PostgreSQL: an advisory lock); returns the revision it found first."""
    with engine.connect() as conn:
        peek = state(current_revision(conn))
    if peek not in ("current", "ahead") or revision not in ("head", HEAD):
        # Imported before any lock is taken: the import is slow on a busy machine, and every
        # other migrator waits while the lock is held.
        from alembic import command  # noqa: F401
    path = _sqlite_file(engine)
    with file_lock(path, timeout_s) if path else contextlib.nullcontext(), locked(engine) as conn:
        # Read under the lock: another process may have migrated while this one waited.
        before = current_revision(conn)
        if state(before) == "ahead":
            return before
        if state(before) == "current" and revision in ("head", HEAD):
            # Another process migrated while this one waited: nothing to do, and the lock is
            # released at once for the next one in line (without importing Alembic).
            return before
        from alembic import command

        command.upgrade(_config(conn), revision)
    return before


def downgrade(engine: Engine, revision: str, timeout_s: float = 10.0) -> None:
    """Migrate down to ``revision`` (``base`` drops every table); for tests and recovery."""
    from alembic import command

    path = _sqlite_file(engine)
    with file_lock(path, timeout_s) if path else contextlib.nullcontext(), locked(engine) as conn:
        command.downgrade(_config(conn), revision)


def script_heads() -> Any:
    """The heads of the migration scripts as Alembic reads them (tests compare with HEAD)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(script_location()).get_heads()


def script_revisions() -> Any:
    """Every revision id among the scripts, oldest first."""
    from alembic.script import ScriptDirectory

    walk = ScriptDirectory(script_location()).walk_revisions()
    return [script.revision for script in reversed(list(walk))]
