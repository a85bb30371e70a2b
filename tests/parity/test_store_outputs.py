"""Probe outputs in the store: stored once by sha256 whatever the number of sightings, on both
write paths (SQLAlchemy and stdlib sqlite3), and joined back whole on read."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from envparity.bench.numerics import record
from envparity.collect.capture import capture
from envparity.parity.compare import compare_numerics
from envparity.store import connect, fast, open_store
from envparity.store import tables as t

np = pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def snapshots():
    base = capture(role="ci")
    big = record("big", lambda: np.linspace(0.0, 1.0, 50_000))
    small = record("small", lambda: [1.0, 2.0])
    snaps = [
        base.model_copy(update={"snapshot_id": uuid.uuid4().hex, "numerics": [big, small]})
        for _ in range(3)
    ]
    other = record("big", lambda: np.linspace(0.0, 2.0, 50_000))
    snaps.append(
        base.model_copy(update={"snapshot_id": uuid.uuid4().hex, "numerics": [other, small]})
    )
    return snaps


def _outputs(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.select(t.probe_outputs.c.sha256)).scalars())
    finally:
        engine.dispose()


def _sightings_numerics(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(t.sightings.c.numerics)).scalars())
    finally:
        engine.dispose()


def _check(url: str, snaps, *, fast_path: bool) -> None:
    if fast_path:
        assert all(fast.save(s, url) is not None for s in snaps)
    else:
        with open_store(url) as store:
            for s in snaps:
                store.save(s)
    # Four sightings, three distinct outputs: the shared ones are stored once.
    assert len(_outputs(url)) == 3
    for numerics in _sightings_numerics(url):
        assert all(n["output"] is None and n["sha256"] for n in numerics)
    with open_store(url) as store:
        for s in snaps:
            assert store.get(s.snapshot_id) == s
    first, changed = snaps[0], snaps[-1]
    found = compare_numerics(first.numerics, changed.numerics)
    assert [(f["key"], f["severity"]) for f in found] == [("big", "error")]


@pytest.mark.parametrize("fast_path", [False, True], ids=["sqlalchemy", "stdlib"])
def test_sqlite_stores_each_output_once_and_reads_it_back_whole(
    tmp_path: Path, snapshots, fast_path
):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with connect(url) as store:
        store.upgrade()
    _check(url, snapshots, fast_path=fast_path)
    if fast_path:
        for s in snapshots:
            assert fast.resolve(s.snapshot_id, url) == s


@pytest.mark.postgres
def test_postgresql_stores_each_output_once(pg_db, snapshots):
    _check(pg_db, snapshots, fast_path=False)


def test_an_upgrade_from_0001_keeps_sightings_and_adds_the_table(tmp_path: Path, snapshots):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with connect(url) as store:
        store.upgrade()
        store.downgrade("0001_initial")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("probe_outputs")
    engine.dispose()
    with open_store(url) as store:  # migrates to head
        store.save(snapshots[0])
        assert store.get(snapshots[0].snapshot_id) == snapshots[0]


ASSET = Path(__file__).parent / "assets" / "0001_initial.db"


def test_a_real_0001_store_upgrades_and_its_old_numerics_still_compare(tmp_path: Path):
    # assets/0001_initial.db: written by envparity at revision 0001 (before whole outputs): one
    # snapshot with the built-in numerics as digests and samples, tagged fraud-train.
    import shutil

    db = tmp_path / "old.db"
    shutil.copy(ASSET, db)
    url = f"sqlite:///{db}"
    with open_store(url) as store:  # migrates 0001 -> head
        old = store.resolve("fraud-train")
        assert store.schema_info().state == "current"
    assert old.numerics and all(n.output is None for n in old.numerics)
    assert {n.name for n in old.numerics} >= {"py_sum", "numpy_gemm_f64"}
    # Old records against new ones: a digest and a sample are all there is, so where the bits
    # differ the comparison is partial (a warning), never a silent match.
    new = [record(n.name, lambda: [9.0, 9.0]) for n in old.numerics if n.status == "ok"]
    found = {f["key"]: f for f in compare_numerics(old.numerics, new)}
    assert found and all(f["severity"] in ("warning", "error") for f in found.values())
    assert any("recorded by an older envparity" in f["why"] for f in found.values())
