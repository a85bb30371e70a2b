"""Tags guarded by triggers instead of foreign keys, so a prune deletes by range.

``tags.snapshot_id`` and ``tag_history.snapshot_id`` referenced ``sightings`` with foreign keys.
PostgreSQL checks such a key once per deleted sighting (two lookups each): deleting 100,000
sightings spent 2.7 s there, five times the delete itself, and made ``db prune`` of millions take
minutes. This migration keeps the same guarantee, checked once per statement:

- a tag (or a tag-history row) can only name a stored sighting: checked on insert and on update of
  ``snapshot_id``, on PostgreSQL with the ``FOR KEY SHARE`` lock a foreign key takes, so a delete
  of that sighting waits for the tagging transaction;
- a sighting a tag names cannot be deleted: PostgreSQL checks each delete statement's deleted rows
  at once, in the rollup's statement trigger (migration 0004), which now also reads them once
  instead of three times; SQLite (row triggers only) checks each row.

The refusals keep the foreign keys' SQLSTATE (23503) and SQLite's constraint error, so a writer
sees the same IntegrityError as before.

Revision ID: 0006_tag_guard
Revises: 0005_records
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_tag_guard"
down_revision = "0005_records"
branch_labels = None
depends_on = None

# Compatible (the same rows are accepted and refused as before): a 0003 client reads and writes
# this store as it did, and its prune's deletes are checked the same way.
MIN_READER = "0003_compat"

_TAGGING = ("tags", "tag_history")

_PG_GUARD = """
CREATE FUNCTION envparity_tag_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sightings WHERE snapshot_id = NEW.snapshot_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" names snapshot % that is not stored',
            TG_TABLE_NAME, NEW.snapshot_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$
"""

# 0004's delete trigger, reading the deleted rows once: per group, how many went and the newest
# that went (a row whose newest sighting may have gone gets the newest one left), and first
# whether any of them is tagged.
_PG_DELETE = """
CREATE OR REPLACE FUNCTION envparity_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tagged text;
BEGIN
    SELECT o.snapshot_id INTO tagged FROM old_rows o
    WHERE o.snapshot_id IN (SELECT snapshot_id FROM tags UNION ALL
                            SELECT snapshot_id FROM tag_history)
    LIMIT 1;
    IF tagged IS NOT NULL THEN
        RAISE EXCEPTION 'delete on table "sightings" removes snapshot % that a tag names', tagged
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    UPDATE sighting_rollup r SET
        sightings = r.sightings - g.n,
        last_seen = CASE WHEN g.newest < r.last_seen THEN r.last_seen ELSE coalesce((
            SELECT s.captured_at FROM sightings s
            WHERE s.fingerprint = r.fingerprint AND s.role = r.role
                AND coalesce(s.hostname, '') = r.host
            ORDER BY s.captured_at DESC, s.snapshot_id DESC LIMIT 1), r.last_seen) END,
        latest_snapshot_id = CASE WHEN g.newest < r.last_seen THEN r.latest_snapshot_id
            ELSE coalesce((
            SELECT s.snapshot_id FROM sightings s
            WHERE s.fingerprint = r.fingerprint AND s.role = r.role
                AND coalesce(s.hostname, '') = r.host
            ORDER BY s.captured_at DESC, s.snapshot_id DESC LIMIT 1), r.latest_snapshot_id) END
    FROM (
        SELECT fingerprint, role, coalesce(hostname, '') AS host, count(*) AS n,
            max(captured_at) AS newest
        FROM old_rows GROUP BY fingerprint, role, coalesce(hostname, '')
    ) g
    WHERE r.fingerprint = g.fingerprint AND r.role = g.role AND r.host = g.host;
    DELETE FROM sighting_rollup WHERE sightings <= 0;
    RETURN NULL;
END $$
"""

# 0004's version, restored by a downgrade.
_PG_DELETE_0004 = """
CREATE OR REPLACE FUNCTION envparity_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
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
    UPDATE sighting_rollup r SET (last_seen, latest_snapshot_id) = (
        SELECT s.captured_at, s.snapshot_id FROM sightings s
        WHERE s.fingerprint = r.fingerprint AND s.role = r.role
            AND coalesce(s.hostname, '') = r.host
        ORDER BY s.captured_at DESC, s.snapshot_id DESC LIMIT 1)
    WHERE r.latest_snapshot_id IN (SELECT snapshot_id FROM old_rows);
    RETURN NULL;
END $$
"""

# SQLite's RAISE(ABORT) is a constraint error, the IntegrityError its foreign key raised.
_SQLITE_GUARD = """
CREATE TRIGGER envparity_tag_guard_{table}_{event} BEFORE {what} ON {table}
WHEN NOT EXISTS (SELECT 1 FROM sightings WHERE snapshot_id = NEW.snapshot_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {table} names a snapshot not stored');
END
"""

_SQLITE_DELETE = """
CREATE TRIGGER envparity_tag_guard_sightings BEFORE DELETE ON sightings
WHEN EXISTS (SELECT 1 FROM tags WHERE snapshot_id = OLD.snapshot_id)
    OR EXISTS (SELECT 1 FROM tag_history WHERE snapshot_id = OLD.snapshot_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a tag names this snapshot');
END
"""

_EVENTS = (("insert", "INSERT"), ("update", "UPDATE OF snapshot_id"))


def _fk(table: str) -> str:
    return f"fk_{table}_snapshot_id_sightings"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in _TAGGING:
            op.drop_constraint(_fk(table), table, type_="foreignkey")
        op.execute(_PG_GUARD)
        for table in _TAGGING:
            op.execute(
                f"CREATE TRIGGER envparity_tag_guard BEFORE INSERT OR UPDATE OF snapshot_id "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION envparity_tag_guard()"
            )
        op.execute(_PG_DELETE)
    else:
        for table in _TAGGING:
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(_fk(table), type_="foreignkey")
            for event, what in _EVENTS:
                op.execute(_SQLITE_GUARD.format(table=table, event=event, what=what))
        op.execute(_SQLITE_DELETE)
    compat = sa.table(
        "schema_compat",
        sa.column("revision", sa.String(length=64)),
        sa.column("min_reader", sa.String(length=64)),
    )
    op.bulk_insert(compat, [{"revision": revision, "min_reader": MIN_READER}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM schema_compat WHERE revision = :r").bindparams(r=revision))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(_PG_DELETE_0004)
        for table in _TAGGING:
            op.execute(f"DROP TRIGGER IF EXISTS envparity_tag_guard ON {table}")
        op.execute("DROP FUNCTION IF EXISTS envparity_tag_guard()")
        for table in _TAGGING:
            op.create_foreign_key(
                _fk(table), table, "sightings", ["snapshot_id"], ["snapshot_id"]
            )
    else:
        op.execute("DROP TRIGGER IF EXISTS envparity_tag_guard_sightings")
        for table in _TAGGING:
            for event, _ in _EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS envparity_tag_guard_{table}_{event}")
            with op.batch_alter_table(table) as batch:
                batch.create_foreign_key(
                    _fk(table), "sightings", ["snapshot_id"], ["snapshot_id"]
                )
