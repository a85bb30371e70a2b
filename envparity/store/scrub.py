"""``envparity db scrub``: rewrite stored rows with today's redaction rules.

A store written by an older envparity keeps the credentials that version did not redact. Reads
redact them already (:func:`envparity.redact.redact_snapshot`); scrubbing removes them from the
database too. An environment whose identity changes gets a new fingerprint: its sightings move to
it, and the old fingerprint is recorded in ``fingerprint_aliases`` so that refs (``fp:OLD``),
fleet baselines and the hook's cache that hold it still resolve.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict

from ..errors import SchemaOutOfDate
from ..identity import fingerprint_data
from ..redact import redact_snapshot
from .rows import merge

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .store import Store


class ScrubResult(BaseModel):
    """What ``db scrub`` changed: environments refingerprinted (old -> new), sightings whose
    instance values were rewritten."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environments: Dict[str, str]
    sightings: int
    dry_run: bool = False


def has_aliases(conn: Connection) -> bool:
    """True when the store has the alias table (migration 0003_compat or later)."""
    import sqlalchemy as sa

    return bool(sa.inspect(conn).has_table("fingerprint_aliases"))


def alias_of(conn: Connection, prefix: str) -> Optional[str]:
    """The fingerprint an old fingerprint (or a unique prefix of one) was scrubbed into."""
    import sqlalchemy as sa

    from . import tables as t

    if not has_aliases(conn):
        return None
    a = t.fingerprint_aliases
    found = list(
        conn.execute(
            sa.select(a.c.fingerprint)
            .where(a.c.old_fingerprint.startswith(prefix, autoescape=True))
            .distinct()
            .limit(2)
        ).scalars()
    )
    return str(found[0]) if len(found) == 1 else None


def scrub(store: Store, *, dry_run: bool = False) -> ScrubResult:
    """Rewrite every environment and sighting with today's redaction rules, in one transaction."""
    import sqlalchemy as sa

    from . import tables as t

    e, s, p, a = t.environments, t.sightings, t.packages, t.fingerprint_aliases
    moved: Dict[str, str] = {}
    rewritten = 0
    now = datetime.now(timezone.utc)
    with store._write("scrubbing the store") as conn:
        if not has_aliases(conn):
            raise SchemaOutOfDate(
                f"store {store.url_redacted} has no fingerprint_aliases table yet; run "
                "`envparity db upgrade` first (older clients keep working on the upgraded store)"
            )
        for row in conn.execute(sa.select(e)).mappings().all():
            identity = row["identity"]
            clean = redact_snapshot(identity)
            if clean == identity:
                continue
            old = row["fingerprint"]
            # The fingerprint hashes the whole snapshot: some identity facts (a package's
            # installer where it has no RECORD) are stored with the sightings, not here.
            instance = conn.execute(
                sa.select(s.c.instance).where(s.c.fingerprint == old).limit(1)
            ).scalar()
            new = fingerprint_data(merge(clean, redact_snapshot(instance)) if instance else clean)
            moved[old] = new
            if dry_run or new == old:
                continue
            _move(conn, store, dict(row), clean, new)
        for sid, instance in conn.execute(sa.select(s.c.snapshot_id, s.c.instance)).all():
            clean = redact_snapshot(instance)
            if clean != instance:
                rewritten += 1
                if not dry_run:
                    conn.execute(sa.update(s).where(s.c.snapshot_id == sid).values(instance=clean))
        if not dry_run:
            for old, new in moved.items():
                if old == new:
                    continue
                # Aliases that named the old fingerprint now name the new one (no chains).
                conn.execute(sa.update(a).where(a.c.fingerprint == old).values(fingerprint=new))
                conn.execute(
                    store._insert_ignore(a, "old_fingerprint"),
                    {"old_fingerprint": old, "fingerprint": new, "created_at": now},
                )
                conn.execute(sa.delete(p).where(p.c.fingerprint == old))
                conn.execute(sa.delete(e).where(e.c.fingerprint == old))
    return ScrubResult(
        environments={k: v for k, v in moved.items() if k != v},
        sightings=rewritten,
        dry_run=dry_run,
    )


def _move(
    conn: Connection,
    store: Store,
    row: Dict[str, Any],
    identity: Dict[str, Any],
    new: str,
) -> None:
    """Make environment ``new`` (unless it is stored already) and move the old one's sightings
    and package rows to it."""
    import sqlalchemy as sa

    from . import tables as t

    e, s, p = t.environments, t.sightings, t.packages
    old = row["fingerprint"]
    store._inserted(conn, e, "fingerprint", dict(row, fingerprint=new, identity=identity))
    packages: List[Dict[str, Any]] = [
        dict(r, fingerprint=new)
        for r in conn.execute(sa.select(p).where(p.c.fingerprint == old)).mappings().all()
    ]
    if packages:
        conn.execute(store._insert_ignore(p, "fingerprint", "name", "version"), packages)
    conn.execute(sa.update(s).where(s.c.fingerprint == old).values(fingerprint=new))
    _move_rollup(conn, old, new)


def _move_rollup(conn: Connection, old: str, new: str) -> None:
    """The sightings rollup (migration 0004) follows its sightings to the new fingerprint: its
    triggers see inserts and deletes, not this update."""
    import sqlalchemy as sa

    from . import tables as t

    if not sa.inspect(conn).has_table(t.sighting_rollup.name):
        return  # a store before 0004
    r = t.sighting_rollup
    for row in conn.execute(sa.select(r).where(r.c.fingerprint == old)).mappings().all():
        where = (r.c.fingerprint == new) & (r.c.role == row["role"]) & (r.c.host == row["host"])
        there = conn.execute(sa.select(r).where(where)).mappings().first()
        if there is None:
            continue  # moves with the UPDATE below
        newest = row if row["last_seen"] > there["last_seen"] else there
        conn.execute(
            sa.update(r).where(where).values(
                sightings=there["sightings"] + row["sightings"],
                first_seen=min(there["first_seen"], row["first_seen"]),
                last_seen=newest["last_seen"],
                latest_snapshot_id=newest["latest_snapshot_id"],
            )
        )
        conn.execute(
            sa.delete(r).where(
                (r.c.fingerprint == old) & (r.c.role == row["role"]) & (r.c.host == row["host"])
            )
        )
    conn.execute(sa.update(r).where(r.c.fingerprint == old).values(fingerprint=new))

