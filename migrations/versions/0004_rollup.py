"""The sightings rollup: per fingerprint, role and host, the count and first and last sighting.

``envparity fleet`` reads this table (one row per environment, role and host) instead of grouping
every sighting. Triggers keep it in step with ``sightings``, so every writer keeps it right
without knowing of it: this envparity's three write paths, and an older client that writes
sightings alone. Strictly additive: one new table, its triggers, a backfill from the sightings
already stored; nothing existing changes.

- PostgreSQL: statement-level triggers with transition tables, so a bulk insert or a batched
  prune updates each touched row once per statement, not once per sighting.
- SQLite: row-level triggers (SQLite has no others).

A prune decrements the counts; a row whose last sighting is deleted goes, and a row whose newest
sighting is deleted gets the newest remaining one. ``first_seen`` is when the first sighting of the
row was stored, and is not moved forward by a prune.

Revision ID: 0004_rollup
Revises: 0003_compat
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rollup"
down_revision = "0003_compat"
branch_labels = None
depends_on = None

# Additive (a table and triggers that every writer, an older one included, keeps in step): a 0003
# client reads and writes this store as it did; this envparity reads a store without it.
MIN_READER = "0003_compat"

# Scripts stay self-contained (no envparity imports): tables.UTCDateTime is this on disk.
_TIMESTAMP = sa.DateTime(timezone=True)

_PG_INSERT = """
CREATE FUNCTION envparity_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sighting_rollup AS r
        (fingerprint, role, host, sightings, first_seen, last_seen, latest_snapshot_id)
    SELECT fingerprint, role, coalesce(hostname, ''), count(*), min(captured_at),
        max(captured_at),
        (array_agg(snapshot_id ORDER BY captured_at DESC, snapshot_id DESC))[1]
    FROM new_rows
    GROUP BY fingerprint, role, coalesce(hostname, '')
    ON CONFLICT (fingerprint, role, host) DO UPDATE SET
        sightings = r.sightings + excluded.sightings,
        first_seen = least(r.first_seen, excluded.first_seen),
        last_seen = greatest(r.last_seen, excluded.last_seen),
        latest_snapshot_id = CASE
            WHEN (excluded.last_seen, excluded.latest_snapshot_id)
                > (r.last_seen, r.latest_snapshot_id)
            THEN excluded.latest_snapshot_id ELSE r.latest_snapshot_id END;
    RETURN NULL;
END $$
"""

_PG_DELETE = """
CREATE FUNCTION envparity_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sighting_rollup r SET sightings = r.sightings - g.n
    FROM (
        SELECT fingerprint, role, coalesce(hostname, '') AS host, count(*) AS n
        FROM old_rows GROUP BY fingerprint, role, coalesce(hostname, '')
    ) g
    WHERE r.fingerprint = g.fingerprint AND r.role = g.role AND r.host = g.host;
    DELETE FROM sighting_rollup r
    USING (SELECT DISTINCT fingerprint, role, coalesce(hostname, '') AS host FROM old_rows) g
    WHERE r.fingerprint = g.fingerprint AND r.role = g.role AND r.host = g.host
        AND r.sightings <= 0;
    -- A row whose newest sighting was deleted gets the newest one left (rare: a prune keeps the
    -- latest of each environment). Rechecked on a row a concurrent insert changed meanwhile.
    UPDATE sighting_rollup r SET (last_seen, latest_snapshot_id) = (
        SELECT s.captured_at, s.snapshot_id FROM sightings s
        WHERE s.fingerprint = r.fingerprint AND s.role = r.role
            AND coalesce(s.hostname, '') = r.host
        ORDER BY s.captured_at DESC, s.snapshot_id DESC LIMIT 1)
    WHERE r.latest_snapshot_id IN (SELECT snapshot_id FROM old_rows);
    RETURN NULL;
END $$
"""

_SQLITE_INSERT = """
CREATE TRIGGER envparity_rollup_insert AFTER INSERT ON sightings
BEGIN
    INSERT INTO sighting_rollup
        (fingerprint, role, host, sightings, first_seen, last_seen, latest_snapshot_id)
    VALUES (NEW.fingerprint, NEW.role, coalesce(NEW.hostname, ''), 1, NEW.captured_at,
        NEW.captured_at, NEW.snapshot_id)
    ON CONFLICT (fingerprint, role, host) DO UPDATE SET
        sightings = sightings + 1,
        first_seen = min(first_seen, excluded.first_seen),
        latest_snapshot_id = CASE
            WHEN excluded.last_seen > last_seen OR (excluded.last_seen = last_seen
                AND excluded.latest_snapshot_id > latest_snapshot_id)
            THEN excluded.latest_snapshot_id ELSE latest_snapshot_id END,
        last_seen = max(last_seen, excluded.last_seen);
END
"""

_SQLITE_DELETE = """
CREATE TRIGGER envparity_rollup_delete AFTER DELETE ON sightings
BEGIN
    UPDATE sighting_rollup SET sightings = sightings - 1
    WHERE fingerprint = OLD.fingerprint AND role = OLD.role
        AND host = coalesce(OLD.hostname, '');
    DELETE FROM sighting_rollup
    WHERE fingerprint = OLD.fingerprint AND role = OLD.role
        AND host = coalesce(OLD.hostname, '') AND sightings <= 0;
    UPDATE sighting_rollup SET
        (last_seen, latest_snapshot_id) = (
            SELECT captured_at, snapshot_id FROM sightings s
            WHERE s.fingerprint = OLD.fingerprint AND s.role = OLD.role
                AND coalesce(s.hostname, '') = coalesce(OLD.hostname, '')
            ORDER BY captured_at DESC, snapshot_id DESC LIMIT 1)
    WHERE fingerprint = OLD.fingerprint AND role = OLD.role
        AND host = coalesce(OLD.hostname, '') AND latest_snapshot_id = OLD.snapshot_id;
END
"""

_BACKFILL = """
INSERT INTO sighting_rollup
    (fingerprint, role, host, sightings, first_seen, last_seen, latest_snapshot_id)
SELECT g.fingerprint, g.role, g.host, g.n, g.first_seen, g.last_seen,
    (SELECT s.snapshot_id FROM sightings s
     WHERE s.fingerprint = g.fingerprint AND s.role = g.role
        AND coalesce(s.hostname, '') = g.host AND s.captured_at = g.last_seen
     ORDER BY s.snapshot_id DESC LIMIT 1)
FROM (
    SELECT fingerprint, role, coalesce(hostname, '') AS host, count(*) AS n,
        min(captured_at) AS first_seen, max(captured_at) AS last_seen
    FROM sightings GROUP BY fingerprint, role, coalesce(hostname, '')
) g
"""

_PG_BACKFILL = """
INSERT INTO sighting_rollup
    (fingerprint, role, host, sightings, first_seen, last_seen, latest_snapshot_id)
SELECT fingerprint, role, coalesce(hostname, ''), count(*), min(captured_at), max(captured_at),
    (array_agg(snapshot_id ORDER BY captured_at DESC, snapshot_id DESC))[1]
FROM sightings GROUP BY fingerprint, role, coalesce(hostname, '')
"""


def upgrade() -> None:
    op.create_table(
        "sighting_rollup",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("sightings", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", _TIMESTAMP, nullable=False),
        sa.Column("last_seen", _TIMESTAMP, nullable=False),
        sa.Column("latest_snapshot_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint(
            "fingerprint", "role", "host", name=op.f("pk_sighting_rollup")
        ),
    )
    op.create_index(
        op.f("ix_sighting_rollup_role_fingerprint"), "sighting_rollup", ["role", "fingerprint"]
    )
    compat = sa.table(
        "schema_compat",
        sa.column("revision", sa.String(length=64)),
        sa.column("min_reader", sa.String(length=64)),
    )
    op.bulk_insert(compat, [{"revision": revision, "min_reader": MIN_READER}])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Nothing writes sightings while the backfill reads them: the new rows would be in
        # neither the backfill nor (no trigger yet) the rollup.
        op.execute("LOCK TABLE sightings IN SHARE MODE")
        op.execute(_PG_BACKFILL)
        op.execute(_PG_INSERT)
        op.execute(_PG_DELETE)
        op.execute(
            "CREATE TRIGGER envparity_rollup_insert AFTER INSERT ON sightings "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION envparity_rollup_insert()"
        )
        op.execute(
            "CREATE TRIGGER envparity_rollup_delete AFTER DELETE ON sightings "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION envparity_rollup_delete()"
        )
    else:
        op.execute(_BACKFILL)
        op.execute(_SQLITE_INSERT)
        op.execute(_SQLITE_DELETE)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM schema_compat WHERE revision = :r").bindparams(r=revision))
    bind = op.get_bind()
    op.execute("DROP TRIGGER IF EXISTS envparity_rollup_insert" + _on(bind))
    op.execute("DROP TRIGGER IF EXISTS envparity_rollup_delete" + _on(bind))
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS envparity_rollup_insert()")
        op.execute("DROP FUNCTION IF EXISTS envparity_rollup_delete()")
    op.drop_index(op.f("ix_sighting_rollup_role_fingerprint"), table_name="sighting_rollup")
    op.drop_table("sighting_rollup")


def _on(bind: sa.engine.Connection) -> str:
    return " ON sightings" if bind.dialect.name == "postgresql" else ""
