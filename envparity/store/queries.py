"""Listing the store: sightings, tag history, environments grouped (from the rollup when it
can), roles, and the batch reads ``fleet`` makes."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

from ..errors import BadInput
from ..model import Snapshot
from .base import MIN_PREFIX, StoreBase, _check_text, check_limit
from .views import EnvironmentGroup, SightingSummary, TagEvent


class Queries(StoreBase):
    """The listings and batch reads of a Store."""

    def list_snapshots(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
        limit: int = 50,
    ) -> List[SightingSummary]:
        """Stored snapshots, newest first, filtered by role, labels and capture time."""
        import sqlalchemy as sa

        from . import tables as t

        check_limit(limit)
        s, e = t.sightings, t.environments
        query = (
            sa.select(
                s.c.snapshot_id,
                s.c.fingerprint,
                s.c.captured_at,
                s.c.role,
                s.c.labels,
                s.c.hostname,
                e.c.python_version,
                e.c.package_count,
            )
            .join(e, e.c.fingerprint == s.c.fingerprint)
            .where(*self._filters(role=role, labels=labels, since=since))
            .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
            .limit(limit)
        )
        with self._read("listing snapshots") as conn:
            rows = conn.execute(query).all()
            ids = [r.snapshot_id for r in rows]
            tagged: Dict[str, List[str]] = {}
            if ids:
                for name, sid in conn.execute(
                    sa.select(t.tags.c.name, t.tags.c.snapshot_id).where(
                        t.tags.c.snapshot_id.in_(ids)
                    )
                ):
                    tagged.setdefault(sid, []).append(name)
        return [
            SightingSummary(
                snapshot_id=r.snapshot_id,
                fingerprint=r.fingerprint,
                captured_at=r.captured_at,
                role=r.role,
                labels=r.labels,
                hostname=r.hostname,
                python_version=r.python_version,
                package_count=r.package_count,
                tags=sorted(tagged.get(r.snapshot_id, [])),
            )
            for r in rows
        ]

    def tag_history(self, name: str) -> List[TagEvent]:
        """Every time tag ``name`` was set or moved, newest first; BadInput for an unknown tag."""
        import sqlalchemy as sa

        from . import tables as t

        h = t.tag_history
        with self._read(f"reading the history of tag {name}") as conn:
            rows = conn.execute(
                sa.select(h.c.name, h.c.snapshot_id, h.c.previous_snapshot_id, h.c.tagged_at)
                .where(h.c.name == name)
                .order_by(h.c.id.desc())
            ).all()
            if not rows:
                names = list(conn.execute(sa.select(t.tags.c.name)).scalars())
                near = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
                hint = f"; nearest: {', '.join(near)}" if near else ""
                raise BadInput(f"tag {name!r}: no such tag in {self.url_redacted}{hint}")
        return [TagEvent.model_validate(r._asdict()) for r in rows]

    def environment_groups(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[EnvironmentGroup]:
        """Sightings grouped by environment, most recently seen first (one GROUP BY in SQL).

        Without ``labels`` or ``since`` the rollup answers (one row per environment, role and
        host, kept by triggers), so the cost follows the fleet's environments, not its
        sightings; a label or time filter counts the matching sightings themselves.
        """
        import sqlalchemy as sa

        from . import tables as t

        if not labels and since is None and self._has_table("sighting_rollup"):
            # One row per environment, role and host; '' is "no hostname" there.
            r = t.sighting_rollup
            if role is not None:
                _check_text("--role", role)
            return self._grouped(
                r,
                where=[r.c.role == role] if role is not None else [],
                sightings=sa.func.sum(r.c.sightings),
                host=r.c.host,
                first=r.c.first_seen,
                last=r.c.last_seen,
                latest_id=r.c.latest_snapshot_id,
            )
        s = t.sightings
        return self._grouped(
            s,
            where=self._filters(role=role, labels=labels, since=since),
            sightings=sa.func.count(),
            host=s.c.hostname,
            first=s.c.captured_at,
            last=s.c.captured_at,
            latest_id=s.c.snapshot_id,
        )

    def _grouped(
        self,
        table: Any,
        *,
        where: List[Any],
        sightings: Any,
        host: Any,
        first: Any,
        last: Any,
        latest_id: Any,
    ) -> List[EnvironmentGroup]:
        """:meth:`environment_groups` over ``table``: the sightings themselves, or their rollup
        (where ``sightings`` sums its counts and ``first``/``last`` are its own columns)."""
        import sqlalchemy as sa

        groups = (
            sa.select(
                table.c.fingerprint,
                sightings.label("sightings"),
                # An empty hostname is no host, as NULL is not (count DISTINCT skips NULL).
                sa.func.count(sa.distinct(sa.func.nullif(host, ""))).label("hosts"),
                sa.func.min(first).label("first_seen"),
                sa.func.max(last).label("last_seen"),
            )
            .where(*where)
            .group_by(table.c.fingerprint)
            .subquery()
        )
        # The newest sighting of each group: join back on (fingerprint, last_seen).
        latest = (
            sa.select(groups, latest_id.label("latest_snapshot_id"))
            .join(
                table,
                sa.and_(table.c.fingerprint == groups.c.fingerprint, last == groups.c.last_seen),
            )
            .where(*where)
            .order_by(groups.c.last_seen.desc(), latest_id.desc())
        )
        with self._read("grouping environments") as conn:
            rows = conn.execute(latest).all()
        result: Dict[str, EnvironmentGroup] = {}
        for row in rows:
            if row.fingerprint in result:  # two sightings at the same instant: keep the first
                continue
            # min/max keep the column's type, so these are aware UTC datetimes on both dialects;
            # sum() over the rollup's counts is a Decimal on PostgreSQL.
            result[row.fingerprint] = EnvironmentGroup(
                fingerprint=row.fingerprint,
                sightings=int(row.sightings),
                hosts=row.hosts,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                latest_snapshot_id=row.latest_snapshot_id,
            )
        return list(result.values())

    def schema_versions(self, fingerprints: List[str]) -> Dict[str, int]:
        """The snapshot schema version of each environment given that is stored (one indexed
        query on a column: cheap enough to ask for every environment of a fleet view)."""
        import sqlalchemy as sa

        from . import tables as t

        e = t.environments
        found: Dict[str, int] = {}
        with self._read("reading environments") as conn:
            for i in range(0, len(fingerprints), 500):
                query = sa.select(e.c.fingerprint, e.c.schema_version).where(
                    e.c.fingerprint.in_(fingerprints[i : i + 500])
                )
                found.update((fp, int(version)) for fp, version in conn.execute(query))
        return found

    def identities(self, fingerprints: List[str]) -> Dict[str, Dict[str, Any]]:
        """The identity (what the fingerprint hashes, as plain data) of each environment given
        that is stored, in one query: what ``fleet`` compares when no sighting adds to it."""
        import sqlalchemy as sa

        from . import tables as t

        e = t.environments
        found: Dict[str, Dict[str, Any]] = {}
        with self._read("reading environments") as conn:
            for i in range(0, len(fingerprints), 500):
                query = sa.select(e.c.fingerprint, e.c.identity).where(
                    e.c.fingerprint.in_(fingerprints[i : i + 500])
                )
                found.update((fp, identity) for fp, identity in conn.execute(query))
        return found

    def sighting_parts(self, snapshot_ids: List[str]) -> Dict[str, Dict[str, Any]]:
        """Per sighting given: its ``collection`` (probe errors), whether it carries ``numerics``
        or ``benchmarks`` (what decides whether a comparison with its environment's identity
        alone is the whole comparison), and its ``labels`` (the fleet's metric labels), in one
        query per 500 ids: no snapshot is loaded."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        found: Dict[str, Dict[str, Any]] = {}
        with self._read("reading sightings") as conn:
            for i in range(0, len(snapshot_ids), 500):
                query = sa.select(
                    s.c.snapshot_id,
                    s.c.collection,
                    s.c.labels,
                    s.c.numerics.is_not(None).label("numerics"),
                    s.c.benchmarks.is_not(None).label("benchmarks"),
                ).where(s.c.snapshot_id.in_(snapshot_ids[i : i + 500]))
                for row in conn.execute(query):
                    found[row.snapshot_id] = {
                        "collection": row.collection,
                        "labels": row.labels if isinstance(row.labels, dict) else {},
                        "numerics": bool(row.numerics),
                        "benchmarks": bool(row.benchmarks),
                    }
        return found

    def roles(
        self,
        *,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[str]:
        """The distinct roles of the sightings (matching ``labels`` and ``since``), sorted."""
        import sqlalchemy as sa

        from . import tables as t

        if not labels and since is None and self._has_table("sighting_rollup"):
            r = t.sighting_rollup.c.role
            query = sa.select(r).distinct().order_by(r)
        else:
            where = self._filters(role=None, labels=labels, since=since)
            role = t.sightings.c.role
            query = sa.select(role).where(*where).distinct().order_by(role)
        with self._read("listing roles") as conn:
            return [str(r) for r in conn.execute(query).scalars()]

    def get_environment(self, fingerprint: str) -> Snapshot:
        """The newest snapshot of the environment with this fingerprint (or unique 6+ prefix)."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        with self._read(f"reading environment {fingerprint}") as conn:
            fps = list(
                conn.execute(
                    sa.select(t.environments.c.fingerprint)
                    .where(t.environments.c.fingerprint.startswith(fingerprint, autoescape=True))
                    .limit(6)
                ).scalars()
            )
            if fingerprint in fps:
                fps = [fingerprint]
            if not fps and len(fingerprint) >= MIN_PREFIX:
                from .scrub import alias_of  # scrubbed by `db scrub`: the old one names the new

                fps = [f for f in [alias_of(conn, fingerprint)] if f]
            if len(fps) != 1 or len(fingerprint) < MIN_PREFIX:
                why = "is ambiguous" if len(fps) > 1 else "matches no stored environment"
                listed = f": {', '.join(f[:16] for f in fps[:5])}" if len(fps) > 1 else ""
                raise BadInput(f"fingerprint {fingerprint!r} {why}{listed} in {self.url_redacted}")
            row = conn.execute(
                self._select_snapshots()
                .where(s.c.fingerprint == fps[0])
                .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
                .limit(1)
            ).first()
        if row is None:
            raise BadInput(f"fingerprint {fingerprint!r}: no sighting of it is stored")
        return self._snapshot(row)
