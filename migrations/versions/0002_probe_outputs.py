"""Probe outputs, stored once by content: a table keyed by the output encoding's sha256.

A parity probe's whole output (compressed) is kept here, not in each sighting: ten thousand
containers that computed the same bytes cost one row, and each sighting's ``numerics`` keeps only
the sha256 that names it.

Revision ID: 0002_probe_outputs
Revises: 0001_initial
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_probe_outputs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Scripts stay self-contained (no envparity imports): tables.UTCDateTime is this on disk.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "probe_outputs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_probe_outputs")),
    )


def downgrade() -> None:
    op.drop_table("probe_outputs")
