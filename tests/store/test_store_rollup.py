"""The sightings rollup (migration 0004): what ``fleet`` reads instead of every sighting.

Its triggers must keep it equal to a GROUP BY over the sightings whoever writes them: the
SQLAlchemy store, the stdlib-sqlite3 and psycopg paths, an older client's plain INSERT, a bulk
insert, and a prune's deletes. And the queries ``fleet``, ``list`` and the hook make must be
answered from an index on PostgreSQL (EXPLAIN), whatever the number of sightings.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest
import sqlalchemy as sa
from store_fixtures import T0, make_snapshot

from envparity.store import connect, fast, open_store
from envparity.store.prune import prune

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _groups(store: Any, role: Optional[str] = None, first: bool = True) -> List[Tuple[Any, ...]]:
    """(rollup's groups, the sightings' own GROUP BY), comparable."""

    def key(g: Any) -> Tuple[Any, ...]:
        row = (g.fingerprint, g.sightings, g.hosts, g.last_seen, g.latest_snapshot_id)
        return row + ((g.first_seen,) if first else ())

    rolled = [key(g) for g in store.environment_groups(role=role)]
    counted = [key(g) for g in store.environment_groups(role=role, since=EPOCH)]
    assert rolled == counted
    return rolled


def test_every_write_path_keeps_the_rollup_equal_to_the_sightings(store_url: str) -> None:
    with open_store(store_url) as store:
        for i in range(6):
            store.save(make_snapshot(env=1, seq=i, host=f"h{i % 3}"))
        # The lean write paths (stdlib sqlite3 / psycopg) that `snapshot` and the hook take.
        for i in range(4):
            assert fast.save_anywhere(make_snapshot(env=2, seq=10 + i, host="h9"), store_url)
        store.save(make_snapshot(env=2, seq=20, role="training", host=""))
        # Stored again: no second count.
        again = make_snapshot(env=1, seq=30, host="h0")
        store.save(again)
        store.save(again)
        groups = _groups(store)
        assert [(g[1], g[2]) for g in groups] == [(7, 3), (5, 1)]  # "" is no host
        assert _groups(store, role="training")[0][1:3] == (1, 0)
        assert store.roles() == ["serving", "training"]
        assert groups[0][4] == again.snapshot_id  # env 1's newest


def test_an_older_clients_plain_and_bulk_inserts_are_counted(store_url: str) -> None:
    with open_store(store_url) as store:
        template = make_snapshot(env=3, seq=0, host="h0")
        store.save(template)
        with store.engine.begin() as conn:
            # What a client that knows nothing of the rollup writes: sightings alone, several
            # rows in one statement (a bulk INSERT fires a statement trigger once).
            conn.execute(
                sa.text(
                    "INSERT INTO sightings (snapshot_id, fingerprint, role, captured_at, "
                    "hostname, labels, envparity_version, stored_at, collection, instance) "
                    "SELECT :p || snapshot_id, fingerprint, role, captured_at, :h, labels, "
                    "envparity_version, stored_at, collection, instance FROM sightings "
                    "WHERE snapshot_id = :sid"
                ),
                [{"p": f"{k}-", "h": f"h{k % 2}", "sid": template.snapshot_id} for k in range(5)],
            )
            conn.execute(
                sa.text(
                    "INSERT INTO sightings (snapshot_id, fingerprint, role, captured_at, "
                    "hostname, labels, envparity_version, stored_at, collection, instance) "
                    "SELECT 'bulk' || snapshot_id, fingerprint, 'batch', captured_at, NULL, "
                    "labels, envparity_version, stored_at, collection, instance FROM sightings"
                )
            )
        assert [g[1:3] for g in _groups(store)] == [(12, 2)]
        assert [g[1:3] for g in _groups(store, role="batch")] == [(6, 0)]


def test_a_prune_decrements_and_moves_the_newest_back(store_url: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open_store(store_url) as store:
        old = [
            make_snapshot(env=4, host=f"h{i % 2}", captured_at=now - timedelta(days=40 + i))
            for i in range(6)
        ]
        for snap in old:
            store.save(snap)
        fresh = make_snapshot(env=4, host="h0", captured_at=now - timedelta(days=1))
        store.save(fresh)
        gone = make_snapshot(env=5, host="h5", captured_at=now - timedelta(days=50))
        store.save(gone)
        store.tag(old[5].snapshot_id, "kept")  # h1's oldest: its newest (old[1]) goes
        result = prune(store, now - timedelta(days=30), keep_latest=1)
        assert (result.sightings, result.kept_tagged, result.kept_latest) == (5, 1, 1)
        groups = _groups(store, first=False)
        assert [g[1:3] for g in groups] == [(2, 2), (1, 1)]
        with store.engine.connect() as conn:
            h1 = conn.execute(
                sa.text("SELECT latest_snapshot_id FROM sighting_rollup WHERE host = 'h1'")
            ).scalar_one()
        assert h1 == old[5].snapshot_id
        prune(store, now - timedelta(days=30), keep_latest=0)
        assert [g[1:4] for g in _groups(store, first=False)] == [(2, 2, fresh.captured_at)]
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM sighting_rollup")).scalar_one()
        assert rows == 2  # env 5's host, with no sighting left, is deleted


def test_upgrading_a_store_with_sightings_backfills_the_rollup(store_url: str) -> None:
    with connect(store_url) as store:
        store.upgrade("0002_probe_outputs")
    # Written by the envparity of 0002, which had no rollup: raw rows, as it wrote them.
    with connect(store_url) as store, store.engine.begin() as conn:
        snaps = [make_snapshot(env=6, seq=i, host=f"h{i % 4}") for i in range(9)]
        from envparity.store.rows import rows

        r0 = rows(snaps[0])
        env_row = dict(r0.environment)
        env_row["identity"] = json.dumps(env_row["identity"])
        env_row["created_at"] = T0
        conn.execute(sa.text(_insert_sql("environments", env_row)), env_row)
        for snap in snaps:
            row = _plain(rows(snap).sighting)
            conn.execute(sa.text(_insert_sql("sightings", row)), row)
    with open_store(store_url) as store:  # migrates to head: the backfill
        groups = _groups(store)
        assert [g[1:3] for g in groups] == [(9, 4)]
        assert groups[0][4] == snaps[-1].snapshot_id


def _plain(row: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for k, v in row.items():
        out[k] = json.dumps(v) if isinstance(v, (dict, list)) else v
    return out


def _insert_sql(table: str, row: Dict[str, Any]) -> str:
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"


@pytest.mark.postgres
def test_fleet_list_and_hook_queries_use_indexes_on_postgres(pg_db: str) -> None:
    from envparity.store import tables as t

    with open_store(pg_db) as store:
        for i in range(30):
            store.save(make_snapshot(env=i % 3, seq=i, host=f"h{i % 5}"))
        s, r = t.sightings, t.sighting_rollup

        def plan(query: Any) -> str:
            compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
            with store.engine.connect() as conn:
                conn.execute(sa.text("SET enable_seqscan = off"))
                lines = conn.execute(sa.text(f"EXPLAIN {compiled}")).scalars()
                return "\n".join(lines)

        # fleet without filters: the rollup only, never the sightings.
        fleet = plan(
            sa.select(r.c.fingerprint, sa.func.sum(r.c.sightings))
            .where(r.c.role == "serving")
            .group_by(r.c.fingerprint)
        )
        assert "sightings " not in fleet.replace("sighting_rollup", "")
        assert "ix_sighting_rollup_role_fingerprint" in fleet or "pk_sighting_rollup" in fleet
        # list --limit 50: newest first from the captured_at index.
        listing = plan(
            sa.select(s.c.snapshot_id).order_by(s.c.captured_at.desc()).limit(50)
        )
        assert "ix_sightings_captured_at" in listing, listing
        # fleet --since / list --role: the (role, captured_at) index.
        recent = plan(
            sa.select(s.c.fingerprint, sa.func.count())
            .where(s.c.role == "serving", s.c.captured_at >= T0)
            .group_by(s.c.fingerprint)
        )
        assert "ix_sightings_role_captured_at" in recent, recent
        # The hook's one baseline read: a tag, then its sighting, by primary keys.
        baseline = plan(
            sa.select(s.c.snapshot_id).where(
                s.c.snapshot_id
                == sa.select(t.tags.c.snapshot_id).where(t.tags.c.name == "b").scalar_subquery()
            )
        )
        assert "pk_sightings" in baseline and "pk_tags" in baseline, baseline
        # prune's batches: the oldest sightings first, from the captured_at index: where a
        # batch ends, then one DELETE of that range.
        bound = plan(
            sa.select(s.c.captured_at)
            .where(s.c.captured_at < T0)
            .order_by(s.c.captured_at)
            .offset(1000)
            .limit(1)
        )
        assert "ix_sightings_captured_at" in bound, bound
        batch = plan(
            sa.delete(s).where(s.c.captured_at >= T0 - timedelta(days=1), s.c.captured_at < T0)
        )
        assert "ix_sightings_captured_at" in batch, batch
        # ... deleted by two connections at once, each its share of the environments.
        from envparity.store.prune import _share

        for worker in (0, 1):
            mine = plan(
                sa.delete(s).where(
                    s.c.captured_at >= T0 - timedelta(days=1),
                    s.c.captured_at < T0,
                    _share(worker, 2),
                )
            )
            assert "ix_sightings_captured_at" in mine, mine


def test_a_prune_in_many_batches_deletes_what_one_would(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envparity.store import prune as prune_module

    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open_store(store_url) as store:
        snaps = [
            make_snapshot(env=i % 3, host=f"h{i % 4}", captured_at=now - timedelta(days=40 + i))
            for i in range(11)
        ]
        for snap in snaps:
            store.save(snap)
        store.save(make_snapshot(env=0, captured_at=now))
        plan = prune(store, now - timedelta(days=30), dry_run=True)
        monkeypatch.setattr(prune_module, "_BATCH", 2)  # every batch its own transaction
        done = prune(store, now - timedelta(days=30))
        # 11 old sightings, ranges of 2 (the 2 kept latest among them): 9 deleted in 6 batches.
        assert done.batches == 6 and done.sightings == plan.sightings == 9
        assert done.snapshot_ids == plan.snapshot_ids
        _groups(store, first=False)  # the rollup agrees with what is left


def _old_fleet(store: Any, now: datetime) -> Tuple[List[Any], set]:
    """Twelve environments (both halves of the fingerprints' last digits), five old sightings
    each on three hosts, one tagged, and a recent sighting of every other one; what a prune at 30
    days must leave: the recent, the tagged and each environment's newest."""
    snaps = [
        make_snapshot(env=e, host=f"h{i % 3}", captured_at=now - timedelta(days=40 + i, hours=e))
        for e in range(12)
        for i in range(5)
    ]
    snaps += [make_snapshot(env=e, captured_at=now) for e in range(0, 12, 2)]
    for snap in snaps:
        store.save(snap)
    store.tag(snaps[7].snapshot_id, "kept")
    newest: Dict[str, Any] = {}
    for snap in snaps:
        seen = newest.get(snap.fingerprint)
        if seen is None or snap.captured_at > seen.captured_at:
            newest[snap.fingerprint] = snap
    left = {s.snapshot_id for s in newest.values()} | {snaps[7].snapshot_id}
    left |= {s.snapshot_id for s in snaps if s.captured_at >= now - timedelta(days=30)}
    return snaps, left


def _left(store: Any) -> set:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT snapshot_id FROM sightings")).scalars())


@pytest.mark.parametrize("workers", [2, 3])
def test_a_prune_on_several_connections_deletes_what_one_would(
    pg_db: str, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """PostgreSQL sweeps on several connections at once, each its share of the environments:
    the same sightings go, the same are listed, the rollup stays equal to the sightings."""
    from envparity.store import prune as prune_module

    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open_store(pg_db) as store:
        snaps, left = _old_fleet(store, now)
        digits = {s.fingerprint[-1] < "8" for s in snaps}
        assert digits == {True, False}, "the fixture's environments must fall in both halves"
        plan = prune(store, now - timedelta(days=30), dry_run=True)
        one = prune_module._Sweeper
        shares: List[Any] = []

        class Sweeper(one):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                shares.append(self.mine)

        monkeypatch.setattr(prune_module, "_Sweeper", Sweeper)
        monkeypatch.setattr(prune_module, "_BATCH", 4)  # many ranges
        monkeypatch.setattr(prune_module, "_PG_WORKERS", workers)
        done = prune(store, now - timedelta(days=30))
        literal = {"literal_binds": True}
        assert len({str(share.compile(compile_kwargs=literal)) for share in shares}) == workers
        assert done.sightings == plan.sightings == len(snaps) - len(left)
        assert done.snapshot_ids == plan.snapshot_ids
        assert done.kept_tagged == 1 and done.unlisted == 0
        assert _left(store) == left
        _groups(store, first=False)  # the rollup agrees with what is left


def test_a_failing_sweep_stops_the_prune_and_a_second_prune_finishes(
    pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection's batch failing (a server gone) stops the prune after that range, with
    that one error; every batch committed or rolled back whole, so the rollup still agrees and a
    second prune deletes the rest."""
    from envparity.errors import StoreError
    from envparity.store import prune as prune_module

    now = datetime.now(timezone.utc).replace(microsecond=0)
    with open_store(pg_db) as store:
        _snaps, left = _old_fleet(store, now)
        one = prune_module._Sweeper
        made: List[Any] = []

        class Flaky(one):  # type: ignore[misc,valid-type]
            """The second connection's batches fail, as on a server that went away."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                made.append(self)

            def delete(self, since: Any, upper: Any) -> None:
                if self is made[1]:
                    gone = Exception("server closed the connection")
                    raise sa.exc.OperationalError("DELETE", {}, gone)
                super().delete(since, upper)

        monkeypatch.setattr(prune_module, "_Sweeper", Flaky)
        monkeypatch.setattr(prune_module, "_BATCH", 4)
        with pytest.raises(StoreError, match="server closed the connection"):
            prune(store, now - timedelta(days=30))
        _groups(store, first=False)
        assert left < _left(store)  # the failing share's sightings are all still there
        monkeypatch.setattr(prune_module, "_Sweeper", one)
        prune(store, now - timedelta(days=30))
        assert _left(store) == left
        _groups(store, first=False)
