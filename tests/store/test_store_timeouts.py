"""ENVPARITY_DB_TIMEOUT: one setting bounds connecting, each statement and each lock wait."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from store_fixtures import make_snapshot

from envparity.errors import BadInput, SchemaOutOfDate, StoreError, StoreTimeout
from envparity.store import open_store
from envparity.store.url import db_timeout


def test_the_setting_defaults_to_10_s_and_a_bad_value_is_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ENVPARITY_DB_TIMEOUT", raising=False)
    assert db_timeout() == 10.0
    monkeypatch.setenv("ENVPARITY_DB_TIMEOUT", "2.5")
    assert db_timeout() == 2.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        monkeypatch.setenv("ENVPARITY_DB_TIMEOUT", bad)
        with pytest.raises(BadInput, match="ENVPARITY_DB_TIMEOUT"):
            db_timeout()


def test_a_server_that_never_answers_is_cut_off_within_the_timeout_plus_a_second() -> None:
    import psycopg  # noqa: F401  (imported before the clock starts: the bound is on the wait)
    import sqlalchemy  # noqa: F401

    import envparity.store.store  # noqa: F401

    with socket.socket() as listener:  # accepts (the kernel does), never speaks
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(StoreError, match="timeout") as e:
            open_store(f"postgresql+psycopg://u:pw@127.0.0.1:{port}/x", timeout_s=2)
        elapsed = time.monotonic() - start
    assert elapsed < 2 + 1, elapsed
    assert f"127.0.0.1:{port}" in str(e.value) and "pw" not in str(e.value)


@pytest.mark.postgres
def test_a_locked_table_fails_with_the_lock_named(pg_db: str) -> None:
    import psycopg

    with open_store(pg_db) as store:
        store.save(make_snapshot())
    holder = psycopg.connect(pg_db.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        holder.execute("LOCK TABLE sightings IN ACCESS EXCLUSIVE MODE")
        with open_store(pg_db, timeout_s=1) as store:
            start = time.monotonic()
            with pytest.raises(StoreTimeout, match="lock was held by another connection"):
                store.list_snapshots()
            assert time.monotonic() - start < 1 + 1
            with pytest.raises(StoreTimeout, match="lock"):
                store.save(make_snapshot(seq=2, snapshot_id="s2" + "0" * 30))
    finally:
        holder.rollback()
        holder.close()


def test_without_migrate_a_missing_sqlite_store_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with pytest.raises(SchemaOutOfDate, match="does not exist yet"):
        open_store(f"sqlite:///{path}", migrate=False)
    assert not path.exists()
