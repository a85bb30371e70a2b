"""Retention: delete old sightings, and the environments no sighting refers to any more.

Every container start adds a sighting, so a store that nothing prunes only grows. ``prune``
deletes the sightings captured before a cutoff, except:

- a snapshot that a tag points at, or pointed at in its history (a baseline must stay
  resolvable, and a tag's history must stay readable);
- the latest ``keep_latest`` sightings of each environment (fingerprint), so every environment
  the fleet has seen keeps at least its newest sighting by default;

then the environments (and their package rows) that no sighting refers to any more. An
environment still referenced is never deleted; the foreign keys would refuse it anyway.

Each batch of deletions is its own short transaction: one DELETE of a ``captured_at`` range
(``_BATCH`` sightings, oldest first, bounds read from the ``captured_at`` index), so a prune of
millions never holds a lock a starting container's write waits on for longer than one batch: the
rollup's rows a batch decrements (migration 0004) are locked until that batch commits. What to
keep (tagged, the latest of each environment) is decided first, from indexes, into a temporary
table the batches skip; nothing per sighting is loaded into Python, and no list of ids is sent
back. The tags are guarded by triggers rather than foreign keys (migration 0006), which check a
whole batch at once instead of each deleted row. On PostgreSQL two connections sweep at once,
each the sightings of its own half of the environments (``_PG_WORKERS``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Set, Tuple

from ..errors import BadInput

if TYPE_CHECKING:
    from .store import Store

# Sightings deleted per DELETE (and transaction). PostgreSQL deletes a batch's range in one
# statement whose trigger checks the tags and updates the rollup once (migration 0006); the
# rollup's rows are locked only from that trigger to the commit (tens of ms however big the batch:
# at most one row per environment, role and host), so a larger batch costs a starting container
# no longer wait and spreads the statement's fixed costs. SQLite's triggers run per row while the
# batch holds the one write lock every writer waits on, so its batches stay small.
_BATCH = 50_000
_SQLITE_BATCH = 5_000
# PostgreSQL deletes each range on this many connections at once, each its own share of the
# environments (by the fingerprint's last hex digit). A DELETE keeps its one server process busy
# (85-95% of a core, wal_compression and synchronous_commit changed nothing measurable), and a
# range deleted as two halves on two connections took 0.68x the time on 2 cores; over 10M
# sightings, where the disk's writes (page images, checkpoints) take their share, 2M-row slices
# went 1.1-1.2x faster with two than with one, and no faster with three. Shares by environment,
# not by time: the rollup rows a batch's trigger updates (one per environment, role and host) are
# then never another worker's, so the workers neither wait on each other's row locks nor deadlock,
# and the trigger's lookup of a group's newest remaining sighting never reads rows another
# connection is deleting. SQLite has one writer at a time: one connection.
_PG_WORKERS = 2
_HEX = "0123456789abcdef"
# Deleted ids listed in the result (and `db prune --json`): the first ones, sorted.
_LISTED = 10_000
_KEEP = "envparity_prune_keep"
_SQLITE_PARAMS = 500  # under SQLite's bound-parameter limit on every version


@dataclass
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete) and what it kept.

    ``snapshot_ids`` lists at most ``_LISTED`` of the deleted ids (``unlisted`` counts the rest).
    """

    cutoff: datetime
    dry_run: bool
    sightings: int = 0
    environments: int = 0
    kept_tagged: int = 0
    kept_latest: int = 0
    snapshot_ids: List[str] = field(default_factory=list)
    fingerprints: List[str] = field(default_factory=list)
    unlisted: int = 0
    batches: int = 0

    def as_dict(self) -> Dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "sightings": self.sightings,
            "environments": self.environments,
            "kept_tagged": self.kept_tagged,
            "kept_latest": self.kept_latest,
            "snapshot_ids": self.snapshot_ids,
            "unlisted": self.unlisted,
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


def _latest(conn: Any, keep_latest: int) -> Set[str]:
    """The newest ``keep_latest`` sightings of each environment: per fingerprint, an index scan
    of (fingerprint, captured_at) backwards, never a sort of every sighting."""
    import sqlalchemy as sa

    from . import tables as t

    if keep_latest <= 0:
        return set()
    s = t.sightings
    fingerprints = list(conn.execute(sa.select(t.environments.c.fingerprint)).scalars())
    ids: Set[str] = set()
    for fp in fingerprints:
        ids.update(
            conn.execute(
                sa.select(s.c.snapshot_id)
                .where(s.c.fingerprint == fp)
                .order_by(s.c.captured_at.desc(), s.c.snapshot_id.desc())
                .limit(keep_latest)
            ).scalars()
        )
    return ids


def _keep_table(conn: Any) -> Any:
    import sqlalchemy as sa

    keep = sa.Table(
        _KEEP,
        sa.MetaData(),
        sa.Column("snapshot_id", sa.String, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    keep.drop(conn, checkfirst=True)
    keep.create(conn)
    return keep


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
    # The temporary table of what to keep lives in a session: one connection plans, and on
    # PostgreSQL each sweeping connection makes its own copy (see _PG_WORKERS).
    # ENVPARITY_DB_TIMEOUT bounds each transaction (a batch), not the whole prune.
    with contextlib.ExitStack() as stack:
        with store._errors(doing):
            conn = stack.enter_context(store.engine.connect())
        conn.execution_options(envparity_write=True)  # SQLite: BEGIN IMMEDIATE
        if conn.dialect.name == "postgresql":
            with store._errors(doing):
                _tune(conn)
                conn.commit()

        each = _transaction(store, doing, conn)
        with each():
            tagged = _tagged(conn)
            latest = _latest(conn, keep_latest)
            keep = _keep_table(conn)
            kept = sorted(tagged | latest)
            if kept:
                conn.execute(keep.insert(), [{"snapshot_id": k} for k in kept])
            old_kept = conn.execute(
                sa.select(s.c.snapshot_id).where(
                    s.c.captured_at < cutoff, s.c.snapshot_id.in_(sa.select(keep.c.snapshot_id))
                )
            ).scalars()
            for sid in old_kept:
                if sid in tagged:
                    result.kept_tagged += 1
                else:
                    result.kept_latest += 1
        doomed = sa.select(s.c.snapshot_id, s.c.captured_at).where(
            s.c.captured_at < cutoff,
            ~sa.exists().where(keep.c.snapshot_id == s.c.snapshot_id),
        )
        listed: List[str] = []
        if dry_run:
            with each():
                result.sightings = int(
                    conn.execute(sa.select(sa.func.count()).select_from(doomed.subquery()))
                    .scalar_one()
                )
                listed = list(
                    conn.execute(
                        sa.select(
                            doomed.order_by(s.c.captured_at, s.c.snapshot_id)
                            .limit(_LISTED)
                            .subquery()
                        )
                    ).scalars()
                )
        else:
            batch = _BATCH if conn.dialect.name == "postgresql" else min(_BATCH, _SQLITE_BATCH)
            swept, result.batches = _sweep(
                store, doing, conn, each, doomed, keep, kept, tagged, cutoff, batch
            )
            fresh: Set[str] = set().union(*(w.fresh for w in swept))
            result.kept_tagged += len(fresh)
            result.sightings = sum(w.sightings for w in swept)
            # The first deleted, in the order they were captured; a snapshot tagged while the
            # prune ran was kept, not deleted: not listed either.
            first = sorted(item for w in swept for item in w.listed)[:_LISTED]
            listed = [sid for _, sid in first if sid not in fresh]
        result.snapshot_ids = sorted(listed)
        result.unlisted = result.sightings - len(listed)
        result.fingerprints, result.environments = _orphans(conn, cutoff, dry_run, keep, each)
        with each():
            keep.drop(conn, checkfirst=True)
    return result


def _transaction(store: Store, doing: str, conn: Any) -> Callable[[], Any]:
    """One transaction on ``conn``, under the store's timeouts and error wording."""

    def each() -> Any:
        tx = contextlib.ExitStack()
        tx.enter_context(store._errors(doing))
        tx.enter_context(conn.begin())
        return tx

    return each


class _Sweeper:
    """One connection's part of the deletes: the sightings of ``share`` of the environments (all
    without one), a range at a time, skipping what its session's keep table holds."""

    def __init__(
        self,
        conn: Any,
        each: Callable[[], Any],
        doomed: Any,
        keep: Any,
        tagged: Set[str],
        share: Any = None,
    ) -> None:
        self.conn, self.each, self.keep = conn, each, keep
        self.mine = doomed if share is None else doomed.where(share)
        self.tagged = set(tagged)  # what this connection's keep table holds
        self.sightings = 0
        self.listed: List[Tuple[Any, str]] = []  # (captured_at, id): the first deleted
        self.fresh: Set[str] = set()  # tagged while the prune ran: kept

    def delete(self, since: Any, upper: Any) -> None:
        """Delete this share of ``[since, upper)``, in the caller's transaction."""
        import sqlalchemy as sa

        from . import tables as t

        s = t.sightings
        part = self.mine.where(s.c.captured_at < upper)
        if since is not None:
            part = part.where(s.c.captured_at >= since)
        # The ids listed come from the same range, read before it goes.
        room = _LISTED - len(self.listed)
        if room > 0:
            first = part.order_by(s.c.captured_at, s.c.snapshot_id).limit(room).subquery()
            self.listed.extend(
                (row.captured_at, row.snapshot_id) for row in self.conn.execute(sa.select(first))
            )
        where = part.whereclause
        self.sightings += _delete_range(self.conn, where, self.keep, self.tagged, self.fresh)

    def delete_alone(self, since: Any, upper: Any) -> None:
        """:meth:`delete` in a transaction of its own (a worker thread's)."""
        with self.each():
            self.delete(since, upper)


def _share(worker: int, workers: int) -> Any:
    """The environments ``worker`` of ``workers`` deletes: by the fingerprint's last hex digit,
    the last worker taking whatever the others do not (so the shares cover every row)."""
    import sqlalchemy as sa

    from . import tables as t

    last = sa.func.right(t.sightings.c.fingerprint, 1)
    if worker < workers - 1:
        return last.in_(list(_HEX[worker::workers]))
    return last.not_in([d for w in range(workers - 1) for d in _HEX[w::workers]])


def _sweep(
    store: Store,
    doing: str,
    conn: Any,
    each: Callable[[], Any],
    doomed: Any,
    keep: Any,
    kept: List[str],
    tagged: Set[str],
    cutoff: datetime,
    batch: int,
) -> Tuple[List[_Sweeper], int]:
    """Delete ``doomed`` in ranges of ``captured_at``, oldest first, each its own transaction, up
    to ``cutoff``: the sweepers that did it, and the number of ranges. ``conn`` reads where each
    range ends (``batch`` sightings on); on PostgreSQL, ``_PG_WORKERS`` connections then delete
    that range at once, each its share of the environments, and the next range starts when all
    are done. In step, so the two read and dirty the same heap pages at the same time (a page
    read from disk once, not once each), and the range's rows are all gone before the next bound
    is read."""
    if conn.dialect.name != "postgresql" or _PG_WORKERS < 2:
        alone = _Sweeper(conn, each, doomed, keep, tagged)
        ranges, since = 0, None
        while True:
            with each():
                upper = _upper(conn, cutoff, since, batch)
                if upper is None:
                    return [alone], ranges
                alone.delete(since, upper)
            ranges, since = ranges + 1, upper
    from concurrent.futures import ThreadPoolExecutor

    with contextlib.ExitStack() as stack:
        sweepers = []
        for worker in range(_PG_WORKERS):
            with store._errors(doing):
                other = stack.enter_context(store.engine.connect())
            work = _transaction(store, doing, other)
            with work():
                _tune(other)
                theirs = _keep_table(other)  # temporary: each session its own copy
                if kept:
                    other.execute(theirs.insert(), [{"snapshot_id": k} for k in kept])
            sweepers.append(
                _Sweeper(other, work, doomed, theirs, tagged, _share(worker, _PG_WORKERS))
            )
            # The pool keeps the session: its keep table goes when the prune does.
            stack.callback(_drop_quietly, other, theirs)
        pool = stack.enter_context(ThreadPoolExecutor(len(sweepers), "envparity-prune"))
        ranges, since = 0, None
        with each():
            upper = _upper(conn, cutoff, since, batch)
        while upper is not None:
            futures = [pool.submit(sw.delete_alone, since, upper) for sw in sweepers]
            # Where the next range ends, read while this one goes: it starts at ``upper``, past
            # every row being deleted.
            with each():
                following = _upper(conn, cutoff, upper, batch)
            for future in futures:  # every share's transaction ends before any error is raised
                future.exception()
            for future in futures:
                future.result()
            ranges, since, upper = ranges + 1, upper, following
        return sweepers, ranges


def _tune(conn: Any) -> None:
    """This PostgreSQL session's settings for deleting (the session's alone).

    jit off: the rollup's delete trigger (0004) plans a correlated lookup whose estimated cost
    crosses jit_above_cost; compiling it took 180 of the 430 ms of a 5000-row batch, for a
    statement that runs in under 30 ms. work_mem 128MB: the trigger's transition table holds every
    deleted row (~1.6 KB each, so ~40 MB for a connection's share of a batch); at the default
    4 MB it spilled to a temporary file, 67 MB written per 50,000 rows, and the trigger took 73
    instead of 45 ms (the whole DELETE 153 instead of 135 ms, warm).
    """
    conn.exec_driver_sql("SET jit = off")
    conn.exec_driver_sql("SET work_mem = '128MB'")


def _drop_quietly(conn: Any, keep: Any) -> None:
    try:
        with conn.begin():
            keep.drop(conn, checkfirst=True)
    except Exception:  # a failed prune's connection: the session's end drops it
        pass


def _upper(conn: Any, cutoff: datetime, since: Any, batch: int) -> Any:
    """Where the next batch ends (exclusive): ``batch`` sightings on from ``since`` (kept ones
    included) on the ``captured_at`` index, read from the index alone; ``cutoff`` past the last
    one; None when none is left. Sightings sharing one ``captured_at`` stay in one batch, however
    many they are."""
    import sqlalchemy as sa

    from . import tables as t

    s = t.sightings
    start = [s.c.captured_at < cutoff]
    if since is not None:
        start.append(s.c.captured_at >= since)
    ordered = sa.select(s.c.captured_at).where(*start).order_by(s.c.captured_at)
    first = conn.execute(ordered.limit(1)).scalar()
    if first is None:
        return None
    upper = conn.execute(ordered.offset(batch).limit(1)).scalar()
    if upper is None:
        return cutoff
    if upper <= first:  # more than a batch at one instant: the batch takes all of them
        upper = conn.execute(ordered.where(s.c.captured_at > first).limit(1)).scalar()
        return cutoff if upper is None else upper
    return upper


def _delete_range(conn: Any, where: Any, keep: Any, tagged: Set[str], fresh: Set[str]) -> int:
    """Delete one batch (``where``: its range, less the keep set) in one statement: no list of
    ids travels, and PostgreSQL checks the tags (migration 0006) and updates the rollup once for
    the statement.

    A snapshot tagged since the keep set was made (a ``tag`` command racing the prune) makes the
    delete refuse, as the tag's guard wants: it joins the keep set, which ``where`` reads, and the
    range is deleted again without it, in the same transaction (a savepoint); ``fresh`` collects
    such snapshots, ``tagged`` is what this connection's keep set holds."""
    import sqlalchemy as sa

    from . import tables as t

    delete = sa.delete(t.sightings).where(where)
    for _ in range(3):
        try:
            with conn.begin_nested():
                return int(conn.execute(delete).rowcount)
        except sa.exc.IntegrityError:
            late = _tagged(conn) - tagged
            if not late:
                raise
            conn.execute(keep.insert(), [{"snapshot_id": k} for k in sorted(late)])
            tagged |= late
            fresh |= late
    return int(conn.execute(delete).rowcount)


def _orphans(conn: Any, cutoff: datetime, dry_run: bool, keep: Any, each: Any) -> Any:
    """The environments no sighting refers to (after this prune); deleted unless ``dry_run``."""
    import sqlalchemy as sa

    from . import tables as t

    s, e = t.sightings, t.environments
    with each():
        if dry_run:
            # What would be left: the sightings that are recent or kept.
            left = sa.or_(
                s.c.captured_at >= cutoff,
                s.c.snapshot_id.in_(sa.select(keep.c.snapshot_id)),
            )
            used: Any = sa.exists().where(s.c.fingerprint == e.c.fingerprint, left)
        elif sa.inspect(conn).has_table(t.sighting_rollup.name):
            # The rollup (0004) has a row for each environment with a sighting: after millions
            # of deletes the sightings' own index is mostly dead entries until a vacuum. Each
            # DELETE below checks the sightings again.
            r = t.sighting_rollup
            used = sa.exists().where(r.c.fingerprint == e.c.fingerprint)
        else:
            used = sa.exists().where(s.c.fingerprint == e.c.fingerprint)
        orphans = sorted(conn.execute(sa.select(e.c.fingerprint).where(~used)).scalars())
    if dry_run or not orphans:
        return orphans, len(orphans)
    for i in range(0, len(orphans), _SQLITE_PARAMS):
        part = orphans[i : i + _SQLITE_PARAMS]
        with each():
            # Checked again inside the DELETE: a sighting stored since keeps its environment.
            conn.execute(
                sa.delete(t.packages).where(
                    t.packages.c.fingerprint.in_(part),
                    ~sa.exists().where(s.c.fingerprint == t.packages.c.fingerprint),
                )
            )
            conn.execute(
                sa.delete(e).where(
                    e.c.fingerprint.in_(part),
                    ~sa.exists().where(s.c.fingerprint == e.c.fingerprint),
                )
            )
    return orphans, len(orphans)
