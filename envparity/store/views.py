"""What the store's listings return: summaries, tag events, environment groups, schema info."""

from __future__ import annotations

from datetime import datetime
from typing import Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SightingSummary(_Model):
    """One stored snapshot, as ``envparity list`` shows it."""

    snapshot_id: str
    fingerprint: str
    captured_at: datetime
    role: str = ""
    labels: Dict[str, str] = Field(default_factory=dict)
    hostname: Optional[str] = None
    python_version: str = ""
    package_count: int = 0
    tags: List[str] = Field(default_factory=list, description="Tags pointing at it, sorted.")


class TagEvent(_Model):
    """A tag set or moved: ``previous_snapshot_id`` is where it pointed before (None: new)."""

    name: str
    snapshot_id: str
    previous_snapshot_id: Optional[str] = None
    tagged_at: datetime


class EnvironmentGroup(_Model):
    """Every sighting of one environment (one fingerprint), counted."""

    fingerprint: str
    sightings: int
    hosts: int = Field(description="Distinct hostnames among the sightings.")
    first_seen: datetime
    last_seen: datetime
    latest_snapshot_id: str


class SchemaInfo(_Model):
    """Where the store is and which schema it has (``envparity db info`` / ``db current``)."""

    url: str = Field(description="Redacted.")
    dialect: str
    path: Optional[str] = Field(None, description="The SQLite file, when SQLite.")
    revision: Optional[str] = None
    head: str
    state: str = Field(description="empty, behind, current or ahead (a newer envparity's).")
    environments: Optional[int] = None
    sightings: Optional[int] = None
    tags: Optional[int] = None
