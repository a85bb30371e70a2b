"""Naming a snapshot: an id, an id prefix, a tag, ``latest[:role=R,k=v]`` or a fingerprint."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from ..errors import BadInput
from ..model import Snapshot
from .base import LATEST, MAX_REF_CHARS, MIN_PREFIX, StoreBase, _check_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Resolving(StoreBase):
    """:meth:`get` and :meth:`resolve`."""

    def get(self, snapshot_id: str) -> Snapshot:
        """The snapshot with exactly this id; BadInput when there is none."""
        from . import tables as t

        with self._read(f"reading snapshot {snapshot_id}") as conn:
            row = conn.execute(
                self._select_snapshots().where(t.sightings.c.snapshot_id == snapshot_id)
            ).first()
        if row is None:
            raise BadInput(
                f"snapshot {snapshot_id}: not in the store {self.url_redacted}; "
                "`envparity list` shows what is there"
            )
        return self._snapshot(row)

    def resolve(self, ref: str) -> Snapshot:
        """The snapshot ``ref`` names: a full id, a tag, ``latest[:role=R,k=v]``, or a unique id
        prefix of 6+ characters (in that order). Unknown or ambiguous: BadInput with candidates."""
        import sqlalchemy as sa

        from . import tables as t

        self._records_source()
        ref = ref.strip()
        if not ref:
            raise BadInput("empty ref; give a snapshot id, a tag, `latest` or a JSON file")
        _check_text("ref", ref)
        if len(ref) > MAX_REF_CHARS:
            raise BadInput(
                f"ref {ref[:40]!r}... is {len(ref)} characters long; no snapshot id, tag or "
                f"selector is longer than {MAX_REF_CHARS}: check the ref"
            )
        if ref == LATEST or ref.startswith(LATEST + ":"):
            return self._latest(ref)
        from ..refspec import fingerprint_ref

        prefix = fingerprint_ref(ref)
        if prefix is not None:
            return self._latest_with_fingerprint(ref, prefix)
        s = t.sightings
        with self._read(f"resolving {ref!r}") as conn:
            row = conn.execute(self._select_snapshots().where(s.c.snapshot_id == ref)).first()
            if row is None:
                tagged = conn.execute(
                    sa.select(t.tags.c.snapshot_id).where(t.tags.c.name == ref)
                ).scalar_one_or_none()
                if tagged is not None:
                    row = conn.execute(
                        self._select_snapshots().where(s.c.snapshot_id == tagged)
                    ).first()
            if row is None and len(ref) >= MIN_PREFIX:
                matches = conn.execute(
                    sa.select(s.c.snapshot_id, s.c.role, s.c.captured_at)
                    .where(s.c.snapshot_id.startswith(ref, autoescape=True))
                    .order_by(s.c.captured_at.desc())
                    .limit(6)
                ).all()
                if len(matches) > 1:
                    listed = ", ".join(
                        f"{m.snapshot_id[:16]} ({m.role or 'no role'}, "
                        f"{m.captured_at:%Y-%m-%d %H:%M})"
                        for m in matches[:5]
                    )
                    more = " and more" if len(matches) > 5 else ""
                    raise BadInput(
                        f"ref {ref!r} is ambiguous: it starts {listed}{more}; give more characters"
                    )
                if matches:
                    row = conn.execute(
                        self._select_snapshots().where(s.c.snapshot_id == matches[0].snapshot_id)
                    ).first()
            if row is None:
                raise BadInput(f"ref {ref!r}: {self._nearest(conn, ref)}")
        return self._snapshot(row)

    def _nearest(self, conn: Connection, ref: str) -> str:
        """Why ``ref`` matched nothing, and the names closest to it."""
        import sqlalchemy as sa

        from . import tables as t

        tag_names = list(conn.execute(sa.select(t.tags.c.name)).scalars())
        recent = list(
            conn.execute(
                sa.select(t.sightings.c.snapshot_id)
                .order_by(t.sightings.c.captured_at.desc())
                .limit(500)
            ).scalars()
        )
        ids = {sid[: max(12, len(ref))]: sid for sid in recent}
        near = difflib.get_close_matches(ref, tag_names + list(ids), n=5, cutoff=0.5)
        why = (
            f"no snapshot id, tag or id prefix matches it in {self.url_redacted}"
            if len(ref) >= MIN_PREFIX
            else f"not a tag in {self.url_redacted}, and id prefixes need {MIN_PREFIX}+ characters"
        )
        if near:
            return f"{why}; nearest: {', '.join(near)}"
        if recent:
            return f"{why}; `envparity list` shows what is stored (latest: {recent[0][:12]})"
        return f"{why}; the store is empty: take one with `envparity snapshot`"

    def _latest_with_fingerprint(self, ref: str, prefix: str) -> Snapshot:
        """The latest snapshot whose fingerprint starts with ``prefix`` (one environment)."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        with self._read(f"resolving {ref!r}") as conn:
            fingerprints = list(
                conn.execute(
                    sa.select(s.c.fingerprint)
                    .where(s.c.fingerprint.startswith(prefix, autoescape=True))
                    .distinct()
                    .limit(3)
                ).scalars()
            )
            if len(fingerprints) > 1:
                raise BadInput(
                    f"ref {ref!r} is ambiguous: fingerprints "
                    f"{', '.join(f[:16] for f in fingerprints)} match; give more characters"
                )
            if not fingerprints:
                from .scrub import alias_of  # scrubbed by `db scrub`: the old one names the new

                fingerprints = [f for f in [alias_of(conn, prefix)] if f]
            if not fingerprints:
                raise BadInput(
                    f"ref {ref!r}: no stored snapshot has that fingerprint in "
                    f"{self.url_redacted}; `envparity fleet` lists the environments seen"
                )
            row = conn.execute(
                self._select_snapshots()
                .where(s.c.fingerprint == fingerprints[0])
                .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
                .limit(1)
            ).first()
        assert row is not None
        return self._snapshot(row)

    def _latest(self, ref: str) -> Snapshot:
        from . import tables as t

        role, labels = parse_latest(ref)
        s = t.sightings
        query = (
            self._select_snapshots()
            .where(*self._filters(role=role, labels=labels))
            .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
            .limit(1)
        )
        with self._read(f"resolving {ref!r}") as conn:
            row = conn.execute(query).first()
        if row is None:
            raise BadInput(
                f"ref {ref!r}: no stored snapshot matches in {self.url_redacted}; "
                "`envparity list --role R --label k=v` shows what is stored"
            )
        return self._snapshot(row)


def parse_latest(ref: str) -> Tuple[Optional[str], Dict[str, str]]:
    """``latest:role=serving,model=fraud`` -> (``serving``, ``{"model": "fraud"}``)."""
    from ..labels import parse_items

    _, _, spec = ref.partition(":")
    try:
        labels = parse_items(spec.split(","), f"ref {ref!r}:")
    except BadInput:
        raise BadInput(
            f"ref {ref!r}: each part must be KEY=VALUE; e.g. latest:role=serving,model=fraud"
        ) from None
    role = labels.pop("role", None)
    return role, labels
