"""Distributions' RECORD lists, stored once by content: a table keyed by the content digest.

A schema-3 package's ``content`` is the sha256 over its RECORD entries (path and hash, without
what installers write differently). The list itself is kept here once, however many environments
share it, so a finding about the same version with other files can name the files that differ.

Revision ID: 0005_records
Revises: 0004_rollup
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_records"
down_revision = "0004_rollup"
branch_labels = None
depends_on = None

# Additive (one new table, written only when it exists): a 0003 or 0004 client reads and writes
# this store as it did, and this envparity writes a store one step behind without it.
MIN_READER = "0003_compat"

# Scripts stay self-contained (no envparity imports): tables.UTCDateTime is this on disk.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_records")),
    )
    compat = sa.table(
        "schema_compat",
        sa.column("revision", sa.String(length=64)),
        sa.column("min_reader", sa.String(length=64)),
    )
    op.bulk_insert(compat, [{"revision": revision, "min_reader": MIN_READER}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM schema_compat WHERE revision = :r").bindparams(r=revision))
    op.drop_table("records")
