"""16 processes x 25 snapshots into one store: each stored exactly once, no error, deduplicated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from envparity.store import open_store
from envparity.store import tables as t

WRITER = Path(__file__).parent / "_writer.py"
WORKERS = 16
PER_WORKER = 25


def _run_writers(url: str, tmp_path: Path) -> list:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), url, str(w), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert err == "", err
        results.append(json.loads(out))
    return results


def _check(url: str, results: list) -> None:
    ids = [i for r in results for i in r["ids"]]
    assert len(set(ids)) == WORKERS * PER_WORKER
    assert all(all(r["first"]) for r in results), "a new snapshot was not stored as new"
    assert not any(any(r["replay"]) for r in results), "a replayed snapshot was stored again"
    with open_store(url) as store, store.engine.connect() as conn:
        stored = list(conn.execute(sa.select(t.sightings.c.snapshot_id)).scalars())
        assert sorted(stored) == sorted(ids)
        environments = conn.execute(sa.select(sa.func.count()).select_from(t.environments))
        assert environments.scalar_one() == 4
        packages = conn.execute(sa.select(sa.func.count()).select_from(t.packages))
        assert packages.scalar_one() == 4 * 41
        assert store.get(ids[-1]).snapshot_id == ids[-1]


def test_sixteen_writers_into_one_sqlite_file(tmp_path: Path) -> None:
    # A fresh file: the writers also race to create the schema on first use.
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    _check(url, _run_writers(url, tmp_path))


@pytest.mark.postgres
def test_sixteen_writers_into_postgres(pg_db: str, tmp_path: Path) -> None:
    _check(pg_db, _run_writers(pg_db, tmp_path))
