"""Alembic environment. envparity drives it from code (envparity/store/migrate.py).

The caller opens the connection and the transaction (BEGIN IMMEDIATE on SQLite, an advisory lock
on PostgreSQL) so that concurrent migrators serialise; this file only runs the scripts in it.
"""

from __future__ import annotations

from alembic import context

from envparity.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "envparity's migrations run through `envparity db upgrade`, not the alembic command"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
