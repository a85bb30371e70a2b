"""The stdlib-sqlite3 save path of `envparity snapshot` writes exactly what Store.save writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from _support import create_pg_database, drop_pg_database
from store_fixtures import make_snapshot

from envparity.store import connect, fast, open_store
from envparity.store import tables as t
from envparity.store.rows import snapshot_from

# Set when the row is written, so they differ between two saves of one snapshot.
_WRITE_TIMES = {"stored_at", "created_at"}


def _dump(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    tuple(v for k, v in row._asdict().items() if k not in _WRITE_TIMES)
                    for row in conn.execute(sa.select(table))
                )
                for table in (t.environments, t.packages, t.sightings)
            }
    finally:
        engine.dispose()


def test_fast_and_sqlalchemy_saves_write_the_same_rows(tmp_path: Path) -> None:
    snaps = [make_snapshot(seq=1), make_snapshot(seq=2, env=3)]
    snaps.append(snaps[0].model_copy(update={"numerics": None, "benchmarks": None}))
    snaps[-1] = snaps[-1].model_copy(update={"snapshot_id": "no-numerics"})
    urls = [f"sqlite:///{tmp_path / name}" for name in ("orm.db", "fast.db")]
    for url in urls:
        with connect(url) as store:
            store.upgrade()
    with open_store(urls[0]) as store:
        assert [store.save(s) for s in snaps] == [True, True, True]
    assert [fast.save(s, urls[1]) for s in snaps] == [(True, urls[1])] * 3
    assert fast.save(snaps[0], urls[1]) == (False, urls[1])
    assert _dump(urls[0]) == _dump(urls[1])
    with open_store(urls[1]) as store:
        for snap in snaps:
            assert store.get(snap.snapshot_id) == snap


def test_fast_path_declines_what_it_cannot_do_alone(tmp_path: Path) -> None:
    snap = make_snapshot()
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    assert fast.save(snap, missing) is None
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    with connect(f"sqlite:///{empty}") as store:
        store.schema_info()  # creates the file, no schema
    assert fast.save(snap, f"sqlite:///{empty}") is None
    with connect(f"sqlite:///{empty}") as store:
        store.upgrade()
        store.downgrade("base")
    assert fast.save(snap, f"sqlite:///{empty}") is None
    assert fast.save(snap, "postgresql+psycopg://u@127.0.0.1:1/x") is None


def test_fast_resolve_finds_ids_and_tags_as_store_resolve_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first, second = make_snapshot(seq=1), make_snapshot(seq=2, env=3)
    with open_store(url) as store:
        store.save(first)
        store.save(second)
        store.tag(first.snapshot_id, "fraud-train")
        for ref in (first.snapshot_id, "fraud-train", second.snapshot_id):
            assert fast.resolve(ref, url) == store.resolve(ref)
    # What needs the full resolver (prefixes, latest, unknown refs with their candidates) or is
    # not a local SQLite store at this schema is declined, never guessed.
    for ref in (first.snapshot_id[:8], "latest", "latest:role=serving", "nope"):
        assert fast.resolve(ref, url) is None
    assert fast.resolve("fraud-train", f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert not (tmp_path / "missing.db").exists()
    assert fast.resolve("fraud-train", "postgresql+psycopg://u@127.0.0.1:1/x") is None


@pytest.mark.postgres
def test_psycopg_and_sqlalchemy_saves_write_the_same_rows(pg_db: str, pg_url: str) -> None:
    from envparity.store import fast_pg

    snaps = [make_snapshot(seq=1), make_snapshot(seq=2, env=3)]
    snaps.append(snaps[0].model_copy(update={"numerics": None, "benchmarks": None}))
    snaps[-1] = snaps[-1].model_copy(update={"snapshot_id": "no-numerics"})
    other = _second_db(pg_url)
    try:
        for url in (pg_db, other):
            with connect(url) as store:
                store.upgrade()
        with open_store(pg_db) as store:
            assert [store.save(s) for s in snaps] == [True, True, True]
        shown = other.replace("postgres@", "***@") if "@" in other else other
        assert [fast.save_anywhere(s, other) for s in snaps] == [(True, shown)] * 3
        assert fast.save_anywhere(snaps[0], other) == (False, shown)
        assert _dump(pg_db) == _dump(other)
        with open_store(other) as store:
            store.tag(snaps[0].snapshot_id, "fraud-train")
            for snap in snaps:
                assert store.get(snap.snapshot_id) == snap
            for ref in (snaps[0].snapshot_id, "fraud-train"):
                found = fast_pg.resolve_data(ref, other)
                assert found is not None
                identity, instance, columns = found
                assert snapshot_from(identity, instance, columns) == store.resolve(ref)
        for ref in (snaps[0].snapshot_id[:8], "latest", "nope"):
            assert fast_pg.resolve_data(ref, other) is None
    finally:
        _drop(pg_url, other)


def test_psycopg_path_declines_what_it_cannot_do_alone(tmp_path: Path) -> None:
    from envparity.errors import StoreError
    from envparity.store import fast_pg

    snap = make_snapshot()
    assert fast_pg.resolve_data("x", f"sqlite:///{tmp_path / 's.db'}") is None
    with pytest.raises(StoreError, match="127.0.0.1:1"):
        fast.save_anywhere(snap, "postgresql+psycopg://u:pw@127.0.0.1:1/x")


def _second_db(pg_url: str) -> str:
    return create_pg_database(pg_url)


def _drop(pg_url: str, url: str) -> None:
    drop_pg_database(pg_url, url)
