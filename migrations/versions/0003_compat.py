"""Compatibility across a fleet's rolling upgrade, and fingerprint aliases for ``db scrub``.

``schema_compat`` holds one row per migration from this one on: its revision, and the oldest
client schema that may still read and write a store at it (``min_reader``). A client that finds a
newer head than its own reads that row: it keeps working when the row names a revision it knows,
and refuses (exit 3) when it does not. So each migration is additive, and says so here.

``fingerprint_aliases`` maps a fingerprint that ``envparity db scrub`` rewrote (an environment
whose stored values held a credential today's rules redact) to the new one.

Revision ID: 0003_compat
Revises: 0002_probe_outputs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_compat"
down_revision = "0002_probe_outputs"
branch_labels = None
depends_on = None

# Additive (two new tables): a 0002 client reads and writes this store as it did.
MIN_READER = "0002_probe_outputs"

# Scripts stay self-contained (no envparity imports): tables.UTCDateTime is this on disk.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    compat = op.create_table(
        "schema_compat",
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("min_reader", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_compat")),
    )
    op.bulk_insert(compat, [{"revision": revision, "min_reader": MIN_READER}])
    op.create_table(
        "fingerprint_aliases",
        sa.Column("old_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("old_fingerprint", name=op.f("pk_fingerprint_aliases")),
    )
    op.create_index(
        op.f("ix_fingerprint_aliases_fingerprint"),
        "fingerprint_aliases",
        ["fingerprint"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_fingerprint_aliases_fingerprint"), table_name="fingerprint_aliases")
    op.drop_table("fingerprint_aliases")
    op.drop_table("schema_compat")
