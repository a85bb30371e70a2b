"""One contract for every writer and reader of the store (envparity.store.interface).

The same suite runs on the SQLAlchemy Store over SQLite and over PostgreSQL, the stdlib-sqlite3
lean path (``fast.LeanSqlite``) and the psycopg lean path (``fast_pg.LeanPostgres``): saving is
idempotent by snapshot id, every one writes the very rows the SQLAlchemy Store writes into SQLite
(write times aside; probe outputs, RECORD lists and the rollup included), and reads give back a
Snapshot equal to the one saved. What a lean path cannot do alone it declines (``Declined``), as
the protocol documents; the full store then answers.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from store_fixtures import make_snapshot

from envparity.bench.record import record
from envparity.collect.packages import RECORDS, content_of
from envparity.errors import BadInput
from envparity.model import Snapshot
from envparity.store import connect, open_store
from envparity.store import tables as t
from envparity.store.fast import LeanSqlite
from envparity.store.fast_pg import LeanPostgres
from envparity.store.interface import Declined, SnapshotReader, SnapshotWriter

# Set when the row is written, so they differ between two stores given the same snapshots.
_WRITE_TIMES = {"stored_at", "created_at"}
_TABLES = (
    t.environments,
    t.packages,
    t.sightings,
    t.probe_outputs,
    t.records,
    t.sighting_rollup,
)


def _record_digest() -> str:
    """The content digest of a distribution installed here, its RECORD read as capture reads
    it (so every writer has its list to store, as after a real capture in this process)."""
    text = importlib.metadata.distribution("pytest").read_text("RECORD")
    assert text
    found = content_of(text)
    RECORDS.setdefault(found.digest, found.lines)
    return found.digest


@pytest.fixture(scope="module")
def snapshots() -> Dict[str, Snapshot]:
    """Snapshots with and without numerics, probe outputs, benchmarks and RECORD lists."""
    plain = make_snapshot(seq=1, snapshot_id="contract-plain")
    bare = plain.model_copy(
        update={"snapshot_id": "contract-bare", "numerics": None, "benchmarks": None}
    )
    outputs = [
        record("ramp", lambda: [float(i) / 7 for i in range(2000)]),
        record("pair", lambda: [1.0, 2.5]),
    ]
    assert all(n.output and n.sha256 for n in outputs)
    digest = _record_digest()
    base = make_snapshot(env=3, seq=2, role="training", host="trainer", labels={"model": "x"})
    packages = [
        p.model_copy(update={"content": digest}) if p.name == "pkg000" else p
        for p in base.packages
    ]
    measured = base.model_copy(
        update={"snapshot_id": "contract-outputs", "packages": packages, "numerics": outputs}
    ).with_fingerprint()
    # A second sighting of that environment, elsewhere: its outputs are stored once.
    again = measured.model_copy(
        update={
            "snapshot_id": "contract-again",
            "captured_at": measured.captured_at.replace(second=30),
            "benchmarks": None,
            "platform": measured.platform.model_copy(update={"hostname": "other"}),
        }
    )
    assert again.fingerprint == again.with_fingerprint().fingerprint
    return {s.snapshot_id: s for s in (plain, bare, measured, again)}


@dataclass
class Impl:
    """One implementation under contract, on a fresh store at this envparity's schema."""

    name: str
    url: str
    writer: SnapshotWriter
    reader: SnapshotReader
    lean: bool


def _fresh_sqlite(tmp_path: Path, name: str) -> str:
    url = f"sqlite:///{tmp_path / name}"
    with connect(url) as store:
        store.upgrade()
    return url


def _fresh_pg(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue("pg_db"))
    with connect(url) as store:
        store.upgrade()
    return url


_SQLALCHEMY = ("sqlalchemy-sqlite", "sqlalchemy-postgresql")
_KINDS = [
    "sqlalchemy-sqlite",
    pytest.param("sqlalchemy-postgresql", marks=pytest.mark.postgres),
    "sqlite3",
    pytest.param("psycopg", marks=pytest.mark.postgres),
]


@pytest.fixture(params=_KINDS)
def impl(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Impl]:
    kind = request.param
    on_pg = kind in ("sqlalchemy-postgresql", "psycopg")
    url = _fresh_pg(request) if on_pg else _fresh_sqlite(tmp_path, "store.db")
    if kind in _SQLALCHEMY:
        with open_store(url, migrate=False) as store:
            yield Impl(kind, url, store, store, lean=False)
        return
    lean: Any = LeanPostgres(url) if on_pg else LeanSqlite(url)
    yield Impl(kind, url, lean, lean, lean=True)


def _dump(url: str) -> Dict[str, List[tuple]]:
    """Every row of the tables a save writes, write times left out, in a stable order."""

    def value(v: Any) -> Any:
        return bytes(v) if isinstance(v, memoryview) else v

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    (
                        tuple(value(v) for k, v in row._asdict().items() if k not in _WRITE_TIMES)
                        for row in conn.execute(sa.select(table))
                    ),
                    key=repr,
                )
                for table in _TABLES
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def reference(snapshots: Dict[str, Snapshot], tmp_path_factory: pytest.TempPathFactory) -> Dict:
    """The rows the SQLAlchemy Store writes into SQLite for ``snapshots``."""
    url = _fresh_sqlite(tmp_path_factory.mktemp("reference"), "reference.db")
    with open_store(url, migrate=False) as store:
        for snap in snapshots.values():
            store.save(snap)
    return _dump(url)


def _save_all(impl: Impl, snapshots: Dict[str, Snapshot]) -> None:
    for snap in snapshots.values():
        impl.writer.save(snap)


def test_save_is_true_when_new_and_false_when_already_stored(impl: Impl, snapshots) -> None:
    assert [impl.writer.save(s) for s in snapshots.values()] == [True] * len(snapshots)
    assert [impl.writer.save(s) for s in snapshots.values()] == [False] * len(snapshots)


def test_every_implementation_writes_the_same_rows(impl: Impl, snapshots, reference) -> None:
    _save_all(impl, snapshots)
    dumped = _dump(impl.url)
    # Not vacuous: each kind of row is there (two outputs, one RECORD list, three rollup rows).
    assert {name: len(rows) for name, rows in dumped.items() if name != "packages"} == {
        "environments": 2,
        "sightings": 4,
        "probe_outputs": 2,
        "records": 1,
        "sighting_rollup": 3,
    }
    for name in reference:
        assert dumped[name] == reference[name], f"{impl.name}: table {name} differs"
    # Saved again: nothing more is written.
    _save_all(impl, snapshots)
    assert _dump(impl.url) == dumped


def test_get_and_resolve_give_back_the_snapshot_saved(impl: Impl, snapshots) -> None:
    _save_all(impl, snapshots)
    with open_store(impl.url, migrate=False) as store:  # lean paths do not tag
        for sid in snapshots:
            store.tag(sid, f"tag-{sid}")
    for sid, snap in snapshots.items():
        assert impl.reader.get(sid) == snap, f"{impl.name}: get({sid})"
        assert impl.reader.resolve(sid) == snap, f"{impl.name}: resolve({sid})"
        assert impl.reader.resolve(f"tag-{sid}") == snap, f"{impl.name}: resolve(tag-{sid})"
    outputs = impl.reader.resolve("contract-again").numerics
    assert outputs and all(n.output for n in outputs)  # joined back whole


def test_an_unknown_ref_is_bad_input_or_a_documented_decline(impl: Impl, snapshots) -> None:
    _save_all(impl, snapshots)
    with pytest.raises(BadInput, match="no-such-snapshot"):
        impl.reader.get("no-such-snapshot")
    with pytest.raises(BadInput):
        impl.reader.get("contract")  # a prefix is no id
    with pytest.raises(Declined if impl.lean else BadInput):
        impl.reader.resolve("no-such-snapshot")
    # What the full resolver alone takes: a lean reader declines, never guesses.
    for ref in ("contract-pla", "latest", "latest:role=training"):
        if impl.lean:
            with pytest.raises(Declined):
                impl.reader.resolve(ref)
        else:
            assert impl.reader.resolve(ref).snapshot_id in snapshots


@pytest.mark.parametrize(
    "kind", ["sqlite3", pytest.param("psycopg", marks=pytest.mark.postgres)]
)
def test_a_lean_path_declines_a_store_it_cannot_use_alone(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, snapshots
) -> None:
    snap = snapshots["contract-plain"]
    if kind == "sqlite3":
        empty = f"sqlite:///{tmp_path / 'empty.db'}"
        with connect(empty) as store:
            store.schema_info()  # the file, no schema
        lean: Any = LeanSqlite(empty)
        other: Any = LeanSqlite("postgresql+psycopg://u@127.0.0.1:1/x")
    else:
        lean = LeanPostgres(str(request.getfixturevalue("pg_db")))  # no schema
        other = LeanPostgres(f"sqlite:///{tmp_path / 'x.db'}")
    for path in (lean, other):
        with pytest.raises(Declined):
            path.save(snap)
        with pytest.raises(Declined):
            path.resolve("contract-plain")
        with pytest.raises(Declined):
            path.get("contract-plain")
    assert not (tmp_path / "x.db").exists()
