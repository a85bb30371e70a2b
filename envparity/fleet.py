"""``envparity fleet``: every environment seen in the store, how widely, and how far from baseline.

The grouping is the store's (:meth:`~envparity.store.Store.environment_groups`, one SQL query over
the sightings), so a fleet of 100,000 container starts is a handful of rows here; each distinct
environment is loaded and compared with the baseline once, whatever its number of sightings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Tuple

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
_CACHE_KIND = "findings"


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
    previous_fingerprints: List[str] = Field(
        default_factory=list,
        description="The fingerprints this environment had under older identity rules (an "
        "envparity upgrade changed the snapshot schema, not the environment): merged into it.",
    )


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
    environ: Optional[Mapping[str, str]] = None,
) -> FleetView:
    """Group the store's sightings by environment and compare each group with ``baseline``.

    ``by_role`` (without ``role``) groups by environment and role, as the metrics are labelled.
    Each environment is compared once, from its identity: the findings that identity gives
    against this baseline are cached on disk (``environ``'s ENVPARITY_HOME, see
    :func:`_identity_findings`); the policy is applied on read. An environment whose newest
    sighting carries probe errors, numerics or benchmarks (or a baseline with numerics or
    benchmarks) is compared in full with that sighting, uncached.
    """
    groups: List[FleetGroup] = []
    roles: List[Optional[str]] = [role]
    if by_role and role is None:
        roles = list(store.roles(labels=dict(labels or {}) or None, since=since))
    found = [
        (r if by_role else None, g)
        for r in roles
        for g in store.environment_groups(role=r, labels=dict(labels or {}) or None, since=since)
    ]
    found, previous = _merge_upgrades(store, found)
    compared: Dict[str, Dict[str, Any]] = {}
    if baseline is not None:
        compared = _compare_all(
            store, baseline, [g for _, g in found], policy, baseline_ref, environ
        )
    for group_role, g in found:
        fields: Dict[str, Any] = {
            "role": group_role,
            "fingerprint": g.fingerprint,
            "sightings": g.sightings,
            "hosts": g.hosts,
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
            "latest_snapshot_id": g.latest_snapshot_id,
            "previous_fingerprints": previous.get((group_role, g.fingerprint), []),
        }
        fields.update(compared.get(g.latest_snapshot_id, compared.get(g.fingerprint, {})))
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


def _merge_upgrades(
    store: Store, found: List[Tuple[Optional[str], Any]]
) -> Tuple[List[Tuple[Optional[str], Any]], Dict[Tuple[Optional[str], str], List[str]]]:
    """Fold each environment seen under an older snapshot schema into the same environment under
    the newest one (``identity.rules_changed``): one environment with its old and new
    fingerprint, not two environments, one of them drifted. Costs one query on a column unless
    the view holds environments of two schema versions (during an upgrade)."""
    from .identity import rules_changed

    versions = store.schema_versions(sorted({g.fingerprint for _, g in found}))
    if len(set(versions.values())) < 2:
        return found, {}
    newest = max(versions.values())
    olds = [(r, g) for r, g in found if versions.get(g.fingerprint, newest) < newest]
    news = [(r, g) for r, g in found if versions.get(g.fingerprint) == newest]
    identities = store.identities(sorted({g.fingerprint for _, g in olds + news}))
    merged: Dict[Tuple[Optional[str], str], Any] = {}
    previous: Dict[Tuple[Optional[str], str], List[str]] = {}
    gone = set()
    for role, old in olds:
        for role_new, new in news:
            a, b = identities.get(old.fingerprint), identities.get(new.fingerprint)
            if role_new != role or a is None or b is None or not rules_changed(a, b):
                continue
            key = (role, new.fingerprint)
            into = merged.get(key, new)
            merged[key] = into.__class__(
                fingerprint=into.fingerprint,
                sightings=into.sightings + old.sightings,
                hosts=max(into.hosts, old.hosts),  # hosts may be shared: at least this many
                first_seen=min(into.first_seen, old.first_seen),
                last_seen=max(into.last_seen, old.last_seen),
                latest_snapshot_id=into.latest_snapshot_id,
            )
            previous.setdefault(key, []).append(old.fingerprint)
            gone.add((role, old.fingerprint))
            break
    kept = [
        (r, merged.get((r, g.fingerprint), g))
        for r, g in found
        if (r, g.fingerprint) not in gone
    ]
    return kept, previous


def _judged(items: List[Dict[str, Any]], policy: Optional[Policy]) -> Dict[str, Any]:
    from .drift.engine import decided
    from .drift.severity import reaches, verdict_of

    counts = dict.fromkeys(SEVERITIES, 0)
    for f in decided(items, policy):  # type: ignore[arg-type]
        counts[f["severity"]] += 1
    verdict = verdict_of(counts)
    fail_on = policy.fail_on if policy is not None else "error"
    return {"verdict": verdict, "failed": reaches(verdict, fail_on), "counts": counts}


def _compare_all(
    store: Store,
    baseline: Snapshot,
    found: List[Any],
    policy: Optional[Policy],
    baseline_ref: str,
    environ: Optional[Mapping[str, str]],
) -> Dict[str, Dict[str, Any]]:
    """Per fingerprint (or, for a group compared in full, per latest snapshot id): the fields
    of its comparison with ``baseline``."""
    import os

    from .comparison import compare as diff

    out: Dict[str, Dict[str, Any]] = {}
    latest = {g.latest_snapshot_id: g.fingerprint for g in found}
    fps = sorted({fp for fp in latest.values() if fp != baseline.fingerprint})
    for fp in latest.values():
        if fp == baseline.fingerprint:
            # The same identity cannot differ: skip loading and comparing the biggest group.
            out[fp] = {"verdict": "none", "failed": False, "counts": dict.fromkeys(SEVERITIES, 0)}
    if not fps:
        return out
    in_full = set()
    base_measured = (
        baseline.numerics is not None
        or baseline.benchmarks is not None
        or bool(baseline.collection.errors)
    )
    parts = store.sighting_parts([sid for sid, fp in latest.items() if fp in fps])
    for sid, part in parts.items():
        errors = (part.get("collection") or {}).get("errors")
        if base_measured or errors or part["numerics"] or part["benchmarks"]:
            in_full.add(sid)
    env = os.environ if environ is None else environ
    identity_only = sorted({fp for sid, fp in latest.items() if fp in fps and sid not in in_full})
    items = _identity_findings(store, baseline, identity_only, env) if identity_only else {}
    for sid, fp in latest.items():
        if fp == baseline.fingerprint:
            continue
        if sid in in_full:
            try:
                report = diff(baseline, store.get(sid), policy, baseline_ref=baseline_ref)
                out[sid] = {
                    "verdict": report.verdict,
                    "failed": report.failed,
                    "counts": report.counts,
                }
            except EnvparityError as e:
                out[sid] = {"problem": str(e)}
        elif fp in items:
            out[fp] = _judged(items[fp], policy)
        else:
            out[fp] = {"problem": f"environment {fp[:16]} is not stored (pruned meanwhile?)"}
    return out


def _identity_findings(
    store: Store, baseline: Snapshot, fingerprints: List[str], environ: Mapping[str, str]
) -> Dict[str, List[Dict[str, Any]]]:
    """The findings (before the policy) of each environment's identity against ``baseline``.

    They depend only on the baseline snapshot, the candidate's fingerprint and envparity's own
    rules, so they are cached by (baseline snapshot id, fingerprint, envparity version) in one
    file per baseline and version under ENVPARITY_HOME's ``findings`` directory (or the user
    cache); what is missing is read from the store in one query and compared here. A cache that
    cannot be read or written costs the comparisons, never the view.
    """
    from ._version import __version__
    from .drift.engine import findings as compare_identity

    cached = _read_cache(baseline.snapshot_id, __version__, environ)
    missing = [fp for fp in fingerprints if fp not in cached]
    if missing:
        from .store.rows import rows

        # Identity against identity: instance-only values (paths, hosts) on one side only
        # would read as differences.
        base = dict(rows(baseline).environment["identity"], fingerprint=baseline.fingerprint)
        for fp, identity in store.identities(missing).items():
            items, _ = compare_identity(base, dict(identity, fingerprint=fp))
            cached[fp] = [dict(f) for f in items]
        _write_cache(baseline.snapshot_id, __version__, cached, environ)
    return cached


def _cache_name(snapshot_id: str, version: str) -> str:
    import hashlib

    return hashlib.sha256(f"{snapshot_id}\0{version}".encode()).hexdigest()[:32] + ".json"


def _read_cache(
    snapshot_id: str, version: str, environ: Mapping[str, str]
) -> Dict[str, List[Dict[str, Any]]]:
    import json
    import os

    from .paths import candidate_dirs
    from .writer import read_own

    name = _cache_name(snapshot_id, version)
    for directory in candidate_dirs(_CACHE_KIND, environ):
        try:
            data = json.loads(read_own(os.path.join(directory, name)))
        except (OSError, ValueError, RecursionError):
            continue
        if (
            isinstance(data, dict)
            and data.get("baseline") == snapshot_id
            and data.get("envparity") == version
            and isinstance(data.get("findings"), dict)
        ):
            return dict(data["findings"])
    return {}


def _write_cache(
    snapshot_id: str,
    version: str,
    findings: Dict[str, List[Dict[str, Any]]],
    environ: Mapping[str, str],
) -> None:
    import json
    import os

    from .paths import candidate_dirs, ensure_dir
    from .writer import write_own

    payload = json.dumps(
        {"baseline": snapshot_id, "envparity": version, "findings": findings},
        sort_keys=True,
        default=str,
    ).encode()
    for directory in candidate_dirs(_CACHE_KIND, environ):
        if not ensure_dir(directory):
            continue
        try:
            write_own(os.path.join(directory, _cache_name(snapshot_id, version)), payload)
            return
        except OSError:
            continue


def check_format(fmt: str) -> str:
    """``fmt`` if the fleet view can be rendered in it, else a BadInput listing the formats."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: unknown format; choose one of {', '.join(FORMATS)}")
    return fmt
