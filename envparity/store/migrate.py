"""Schema migrations: Alembic driven from code, so an installed wheel can migrate itself.

The scripts live in the top-level ``migrations/`` directory, which the wheel ships as the package
``envparity._migrations``. Reading the schema's revision needs no Alembic (it is one SELECT), so
the common path, a store already at head, never imports it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import TYPE_CHECKING, Any, Iterator, Optional

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# Every revision in order, oldest first. A test checks this against the scripts, so a new
# migration that is not listed here fails CI instead of being mistaken for "a newer envparity".
REVISIONS = ("0001_initial", "0002_probe_outputs")
HEAD = REVISIONS[-1]

VERSION_TABLE = "alembic_version"

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


def _config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location())
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine, revision: str = "head") -> Optional[str]:
    """Migrate to ``revision`` under the migration lock; returns the revision it found first."""
    from alembic import command

    with locked(engine) as conn:
        # Read under the lock: another process may have migrated while this one waited.
        before = current_revision(conn)
        if state(before) == "ahead":
            return before
        if state(before) == "current" and revision in ("head", HEAD):
            # Another process migrated while this one waited: nothing to do, and the lock is
            # released at once for the next one in line (Alembic's no-op costs ~0.1 s).
            return before
        command.upgrade(_config(conn), revision)
    return before


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to ``revision`` (``base`` drops every table); for tests and recovery."""
    from alembic import command

    with locked(engine) as conn:
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
