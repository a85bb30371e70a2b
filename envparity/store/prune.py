"""Retention: delete old sightings, and the environments no sighting refers to any more.

Every container start adds a sighting, so a store that nothing prunes only grows. ``prune``
deletes the sightings captured before a cutoff, except:

- a snapshot that a tag points at, or pointed at in its history (a baseline must stay
  resolvable, and a tag's history must stay readable);
- the latest ``keep_latest`` sightings of each environment (fingerprint), so every environment
  the fleet has seen keeps at least its newest sighting by default;

then the environments (and their package rows) that no sighting refers to any more. An
environment still referenced is never deleted; the foreign keys would refuse it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Set

from ..errors import BadInput

if TYPE_CHECKING:
    from .store import Store

_BATCH = 500  # ids per DELETE: under SQLite's bound-parameter limit on every version


@dataclass
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete) and what it kept."""

    cutoff: datetime
    dry_run: bool
    sightings: int = 0
    environments: int = 0
    kept_tagged: int = 0
    kept_latest: int = 0
    snapshot_ids: List[str] = field(default_factory=list)
    fingerprints: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "sightings": self.sightings,
            "environments": self.environments,
            "kept_tagged": self.kept_tagged,
            "kept_latest": self.kept_latest,
            "snapshot_ids": self.snapshot_ids,
            "fingerprints": self.fingerprints,
        }


def _tagged(conn: Any) -> Set[str]:
    """Every snapshot a tag points at now or pointed at before."""
    import sqlalchemy as sa

    from . import tables as t

    ids: Set[str] = set(conn.execute(sa.select(t.tags.c.snapshot_id)).scalars())
    ids.update(conn.execute(sa.select(t.tag_history.c.snapshot_id)).scalars())
    ids.update(
        i
        for i in conn.execute(sa.select(t.tag_history.c.previous_snapshot_id)).scalars()
        if i is not None
    )
    return ids


def prune(
    store: Store, cutoff: datetime, *, keep_latest: int = 1, dry_run: bool = False
) -> PruneResult:
    """Delete sightings captured before ``cutoff`` and the environments left without any."""
    import sqlalchemy as sa

    from . import tables as t

    if keep_latest < 0:
        raise BadInput(f"--keep-latest {keep_latest}: give 0 or more")
    if cutoff.tzinfo is None:
        raise BadInput("the cutoff must carry a time zone (UTC)")
    s = t.sightings
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    doing = "pruning" if not dry_run else "planning a prune"
    with store._write(doing) as conn:  # one transaction: what is counted is what is deleted
        newest_first = (s.c.captured_at.desc(), s.c.snapshot_id.desc())
        rank = (
            sa.func.row_number()
            .over(partition_by=s.c.fingerprint, order_by=newest_first)
            .label("rank")
        )
        ranked = sa.select(s.c.snapshot_id, s.c.fingerprint, s.c.captured_at, rank).subquery()
        old = conn.execute(
            sa.select(ranked.c.snapshot_id, ranked.c.fingerprint, ranked.c.rank).where(
                ranked.c.captured_at < cutoff
            )
        ).all()
        tagged = _tagged(conn)
        doomed: List[str] = []
        for row in old:
            if row.snapshot_id in tagged:
                result.kept_tagged += 1
            elif row.rank <= keep_latest:
                result.kept_latest += 1
            else:
                doomed.append(row.snapshot_id)
        result.snapshot_ids = sorted(doomed)
        result.sightings = len(doomed)
        doomed_set = set(doomed)
        # Sightings left per environment: counted in SQL, minus the doomed (one row per
        # environment in memory, not one per sighting).
        remaining: Dict[str, int] = {
            f: int(n)
            for f, n in conn.execute(
                sa.select(s.c.fingerprint, sa.func.count()).group_by(s.c.fingerprint)
            )
        }
        for row in old:
            if row.snapshot_id in doomed_set:
                remaining[row.fingerprint] -= 1
        orphans = sorted(
            f
            for f in conn.execute(sa.select(t.environments.c.fingerprint)).scalars()
            if remaining.get(f, 0) <= 0
        )
        result.fingerprints = orphans
        result.environments = len(orphans)
        if dry_run:
            return result
        for i in range(0, len(doomed), _BATCH):
            conn.execute(sa.delete(s).where(s.c.snapshot_id.in_(doomed[i : i + _BATCH])))
        for i in range(0, len(orphans), _BATCH):
            batch = orphans[i : i + _BATCH]
            # Checked again inside the DELETE: a sighting stored since the count keeps its row.
            still_unreferenced = ~sa.exists().where(s.c.fingerprint == t.environments.c.fingerprint)
            conn.execute(
                sa.delete(t.packages).where(
                    t.packages.c.fingerprint.in_(batch),
                    ~sa.exists().where(s.c.fingerprint == t.packages.c.fingerprint),
                )
            )
            conn.execute(
                sa.delete(t.environments).where(
                    t.environments.c.fingerprint.in_(batch), still_unreferenced
                )
            )
    return result
