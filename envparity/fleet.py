"""``envparity fleet``: every environment seen in the store, how widely, and how far from baseline.

The grouping is the store's (:meth:`~envparity.store.Store.environment_groups`, one SQL query over
the sightings), so a fleet of 100,000 container starts is a handful of rows here; each distinct
environment is loaded and compared with the baseline once, whatever its number of sightings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field

from .drift.severity import RANK, SEVERITIES
from .errors import BadInput, EnvparityError

if TYPE_CHECKING:
    from .model import Snapshot
    from .policy import Policy
    from .store.interface import Store

FORMATS = ("text", "json", "markdown", "html", "openmetrics")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FleetGroup(_Model):
    """One environment (fingerprint): where it was seen and how it differs from the baseline."""

    fingerprint: str
    role: Optional[str] = Field(
        None, description="The role of these sightings, when the view is grouped by role too."
    )
    sightings: int = Field(description="Snapshots taken of it: container or process starts.")
    hosts: int = Field(description="Distinct hosts it was seen on.")
    first_seen: datetime
    last_seen: datetime
    latest_snapshot_id: str
    verdict: Optional[Literal["none", "info", "warning", "error"]] = Field(
        None, description="Drift against the baseline; null without a baseline."
    )
    failed: Optional[bool] = Field(None, description="The verdict reaches the policy's fail_on.")
    counts: Dict[str, int] = Field(default_factory=dict, description="Findings per severity.")
    problem: Optional[str] = Field(None, description="Why it could not be compared.")


class FleetBaseline(_Model):
    ref: str
    snapshot_id: str
    fingerprint: str


class FleetView(_Model):
    """The fleet, worst group first."""

    baseline: Optional[FleetBaseline] = None
    role: Optional[str] = None
    labels: Dict[str, str] = Field(default_factory=dict)
    since: Optional[datetime] = None
    environments: int
    sightings: int
    groups: List[FleetGroup] = Field(default_factory=list)


def parse_since(text: str, now: Optional[datetime] = None, option: str = "--since") -> datetime:
    """``24h``, ``30m``, ``7d``, ``2w``, ``90s`` ago, or an ISO 8601 date/time (UTC if naive)."""
    now = now or datetime.now(timezone.utc)
    match = _DURATION.match(text)
    if match:
        try:
            return now - timedelta(
                seconds=float(match.group(1)) * _UNIT_S[match.group(2).lower()]
            )
        except OverflowError:
            raise BadInput(
                f"{option} {text!r}: reaches back before the year 1; give a shorter duration "
                "(30m, 24h, 7d, 2w) or an ISO date"
            ) from None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"{option} {text!r}: expected a duration (30m, 24h, 7d, 2w) or an ISO date "
            "(2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _sort_key(group: FleetGroup) -> Any:
    # Worst drift first; among equals, the most widespread, then the most recent.
    rank = RANK.get(group.verdict or "none", 0) + (4 if group.problem else 0)
    return (-rank, -group.sightings, -group.last_seen.timestamp(), group.fingerprint)


def fleet_view(
    store: Store,
    baseline: Optional[Snapshot] = None,
    *,
    baseline_ref: str = "",
    role: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    since: Optional[datetime] = None,
    policy: Optional[Policy] = None,
    by_role: bool = False,
) -> FleetView:
    """Group the store's sightings by environment and compare each group with ``baseline``.

    ``by_role`` (without ``role``) groups by environment and role, as the metrics are labelled.
    """
    from .comparison import compare as diff

    groups: List[FleetGroup] = []
    compared: Dict[str, Dict[str, Any]] = {}  # fingerprint -> comparison, done once per environment
    roles: List[Optional[str]] = [role]
    if by_role and role is None:
        roles = list(store.roles(labels=dict(labels or {}) or None, since=since))
    found = [
        (r if by_role else None, g)
        for r in roles
        for g in store.environment_groups(role=r, labels=dict(labels or {}) or None, since=since)
    ]
    for group_role, g in found:
        fields: Dict[str, Any] = {
            "role": group_role,
            "fingerprint": g.fingerprint,
            "sightings": g.sightings,
            "hosts": g.hosts,
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
            "latest_snapshot_id": g.latest_snapshot_id,
        }
        if baseline is not None and g.fingerprint == baseline.fingerprint:
            # The same identity cannot differ: skip loading and comparing the biggest group.
            fields.update(verdict="none", failed=False, counts=dict.fromkeys(SEVERITIES, 0))
        elif baseline is not None and g.fingerprint in compared:
            fields.update(compared[g.fingerprint])
        elif baseline is not None:
            try:
                environment = store.get_environment(g.fingerprint)
                report = diff(baseline, environment, policy, baseline_ref=baseline_ref)
                result: Dict[str, Any] = {
                    "verdict": report.verdict,
                    "failed": report.failed,
                    "counts": report.counts,
                }
            except EnvparityError as e:
                result = {"problem": str(e)}
            compared[g.fingerprint] = result
            fields.update(result)
        groups.append(FleetGroup(**fields))
    groups.sort(key=_sort_key)
    return FleetView(
        baseline=(
            FleetBaseline(
                ref=baseline_ref or baseline.snapshot_id,
                snapshot_id=baseline.snapshot_id,
                fingerprint=baseline.fingerprint,
            )
            if baseline is not None
            else None
        ),
        role=role,
        labels=dict(labels or {}),
        since=since,
        environments=len({g.fingerprint for g in groups}),
        sightings=sum(g.sightings for g in groups),
        groups=groups,
    )


def check_format(fmt: str) -> str:
    """``fmt`` if the fleet view can be rendered in it, else a BadInput listing the formats."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: unknown format; choose one of {', '.join(FORMATS)}")
    return fmt
