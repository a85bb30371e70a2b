"""The store's tables (SQLAlchemy Core). migrations/ builds exactly this; a test compares them.

Content addressing: one ``environments`` row per distinct fingerprint holds everything that
identifies the environment, one small ``sightings`` row per captured snapshot holds what belongs
to that one process or machine. ``packages`` lists each environment's distributions for queries
such as "which environments run numpy<2".
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):  # type: ignore[type-arg]
    """An aware UTC datetime on every dialect (SQLite has no time zones: stored naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; give an aware (UTC) one")
        value = value.astimezone(timezone.utc)
        # Naive UTC text sorts chronologically in SQLite.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


environments = sa.Table(
    "environments",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("python_version", sa.String, nullable=False),
    sa.Column("package_count", sa.Integer, nullable=False),
    # The snapshot's identity (model.identity) as JSON: what the fingerprint hashes.
    sa.Column("identity", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("snapshot_id", sa.String, primary_key=True),
    sa.Column(
        "fingerprint",
        sa.String(64),
        sa.ForeignKey("environments.fingerprint"),
        nullable=False,
    ),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("captured_at", UTCDateTime, nullable=False),
    sa.Column("hostname", sa.String, nullable=True),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("envparity_version", sa.String, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
    sa.Column("collection", sa.JSON, nullable=False),
    sa.Column("numerics", sa.JSON, nullable=True),
    sa.Column("benchmarks", sa.JSON, nullable=True),
    # Every other instance-only value (paths, pid, GPU UUIDs, RNG digests), merged back on read.
    sa.Column("instance", sa.JSON, nullable=False),
    # newest-first listing, `latest:role=...`, and per-environment grouping for the fleet view.
    sa.Index(None, "captured_at"),
    sa.Index(None, "role", "captured_at"),
    sa.Index(None, "fingerprint", "captured_at"),
)

packages = sa.Table(
    "packages",
    metadata,
    sa.Column(
        "fingerprint",
        sa.String(64),
        sa.ForeignKey("environments.fingerprint"),
        primary_key=True,
    ),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("version", sa.String, primary_key=True),
    sa.Index(None, "name", "version"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    # A stored sighting: a trigger checks it (migration 0006), not a foreign key.
    sa.Column("snapshot_id", sa.String, nullable=False),
    sa.Column("tagged_at", UTCDateTime, nullable=False),
)

tag_history = sa.Table(
    "tag_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False),
    # A stored sighting: a trigger checks it (migration 0006), not a foreign key.
    sa.Column("snapshot_id", sa.String, nullable=False),
    sa.Column("previous_snapshot_id", sa.String, nullable=True),
    sa.Column("tagged_at", UTCDateTime, nullable=False),
    sa.Index(None, "name", "id"),
)

# A probe's whole output, compressed, stored once per distinct content (migration 0002).
# Sightings' ``numerics`` keep its sha256 only; reading a snapshot joins the output back.
probe_outputs = sa.Table(
    "probe_outputs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("encoding", sa.String, nullable=False),  # "zlib": envparity.parity.encode's
    sa.Column("size", sa.Integer, nullable=False),  # compressed bytes
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Migration 0003_compat: which client schemas may use this store (one row per migration), and
# the fingerprints `envparity db scrub` rewrote (refs, tags, fleets and caches that hold an old
# fingerprint resolve through here).
schema_compat = sa.Table(
    "schema_compat",
    metadata,
    sa.Column("revision", sa.String(64), primary_key=True),
    sa.Column("min_reader", sa.String(64), nullable=False),
)

fingerprint_aliases = sa.Table(
    "fingerprint_aliases",
    metadata,
    sa.Column("old_fingerprint", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# A distribution's RECORD entries ("path,hash" lines, zlib), stored once per content digest
# (migration 0005). Packages' ``content`` names a row; a content finding names the files.
records = sa.Table(
    "records",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("encoding", sa.String, nullable=False),  # "zlib": newline-joined lines
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),  # compressed bytes
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Per fingerprint, role and host: how many sightings, the first and the newest (migration 0004).
# Triggers on ``sightings`` keep it in step (every writer, an older client's included), so
# ``envparity fleet`` reads one row per environment, role and host instead of every sighting.
# ``host`` is the sighting's hostname, '' when it had none.
sighting_rollup = sa.Table(
    "sighting_rollup",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("role", sa.String, primary_key=True),
    sa.Column("host", sa.String, primary_key=True),
    sa.Column("sightings", sa.BigInteger, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.Column("latest_snapshot_id", sa.String, nullable=False),
    sa.Index(None, "role", "fingerprint"),
)
