"""Initial schema: environments, sightings, packages, tags and tag history.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Scripts stay self-contained (no envparity imports): tables.UTCDateTime is this on disk.
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("python_version", sa.String(), nullable=False),
        sa.Column("package_count", sa.Integer(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_environments")),
    )
    op.create_table(
        "packages",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fingerprint"],
            ["environments.fingerprint"],
            name=op.f("fk_packages_fingerprint_environments"),
        ),
        sa.PrimaryKeyConstraint("fingerprint", "name", "version", name=op.f("pk_packages")),
    )
    op.create_index(op.f("ix_packages_name_version"), "packages", ["name", "version"])
    op.create_table(
        "sightings",
        sa.Column("snapshot_id", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("captured_at", _TIMESTAMP, nullable=False),
        sa.Column("hostname", sa.String(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("envparity_version", sa.String(), nullable=False),
        sa.Column("stored_at", _TIMESTAMP, nullable=False),
        sa.Column("collection", sa.JSON(), nullable=False),
        sa.Column("numerics", sa.JSON(), nullable=True),
        sa.Column("benchmarks", sa.JSON(), nullable=True),
        sa.Column("instance", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fingerprint"],
            ["environments.fingerprint"],
            name=op.f("fk_sightings_fingerprint_environments"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_sightings")),
    )
    op.create_index(op.f("ix_sightings_captured_at"), "sightings", ["captured_at"])
    op.create_index(
        op.f("ix_sightings_fingerprint_captured_at"), "sightings", ["fingerprint", "captured_at"]
    )
    op.create_index(op.f("ix_sightings_role_captured_at"), "sightings", ["role", "captured_at"])
    op.create_table(
        "tag_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("snapshot_id", sa.String(), nullable=False),
        sa.Column("previous_snapshot_id", sa.String(), nullable=True),
        sa.Column("tagged_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["sightings.snapshot_id"],
            name=op.f("fk_tag_history_snapshot_id_sightings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_history")),
    )
    op.create_index(op.f("ix_tag_history_name_id"), "tag_history", ["name", "id"])
    op.create_table(
        "tags",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("snapshot_id", sa.String(), nullable=False),
        sa.Column("tagged_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["sightings.snapshot_id"], name=op.f("fk_tags_snapshot_id_sightings")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tags")),
    )


def downgrade() -> None:
    op.drop_table("tags")
    op.drop_index(op.f("ix_tag_history_name_id"), table_name="tag_history")
    op.drop_table("tag_history")
    op.drop_index(op.f("ix_sightings_role_captured_at"), table_name="sightings")
    op.drop_index(op.f("ix_sightings_fingerprint_captured_at"), table_name="sightings")
    op.drop_index(op.f("ix_sightings_captured_at"), table_name="sightings")
    op.drop_table("sightings")
    op.drop_index(op.f("ix_packages_name_version"), table_name="packages")
    op.drop_table("packages")
    op.drop_table("environments")
