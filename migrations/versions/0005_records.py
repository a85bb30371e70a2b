"""Distributions' RECORD lists, stored once by content: a table keyed by the content digest.

A schema-3 package's ``content`` is the sha256 over its RECORD entries (path and hash, without
what installers write differently). The list itself is kept here once, however many environments
share it, so a finding about the same version with other files can name the files that differ.

Revision ID: 0005_records
Revises: 0002_probe_outputs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_records"
down_revision = "0002_probe_outputs"
branch_labels = None
depends_on = None

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


def downgrade() -> None:
    op.drop_table("records")
