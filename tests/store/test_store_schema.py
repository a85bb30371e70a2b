"""Migrations: from empty, down and up again, models == migrated schema, a newer envparity's."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_fixtures import make_snapshot

from envparity.errors import SchemaOutOfDate
from envparity.store import connect, migrate, open_store
from envparity.store.tables import metadata
from envparity.store.url import sqlite_path


def test_revision_list_matches_the_scripts() -> None:
    # REVISIONS lets the store tell "behind" from "newer envparity" without importing Alembic.
    assert migrate.script_revisions() == list(migrate.REVISIONS)
    assert migrate.script_heads() == [migrate.HEAD]


def _tables(url: str) -> set:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_down_and_up_again(store_url: str) -> None:
    with connect(store_url) as store:
        assert store.schema_info().state == "empty"
        assert store.upgrade() is None
        assert store.schema_info().state == "current"
        assert store.upgrade() == migrate.HEAD  # again: nothing to do
        store.downgrade("base")
        assert _tables(store_url) <= {"alembic_version"}
        assert store.schema_info().state == "empty"
        store.upgrade()
    with open_store(store_url, migrate=False) as store:
        snap = make_snapshot()
        store.save(snap)
        assert store.get(snap.snapshot_id) == snap


def test_models_and_migrated_schema_agree(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with connect(store_url) as store:
        store.upgrade()
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []


def test_without_migrate_an_empty_store_says_run_upgrade(store_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="run `envparity db upgrade`"):
        open_store(store_url, migrate=False)


def _stamp_future(url: str) -> None:
    with connect(url) as store:
        store.upgrade()
        store.save(make_snapshot())
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    path = sqlite_path(url)
    if path:
        # Everything into the main file, so that its bytes are the whole database.
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_store_from_a_newer_envparity_is_left_untouched(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from envparity.cli import app

    db = tmp_path / "newer.db"
    url = f"sqlite:///{db}"
    _stamp_future(url)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for migrate_ in (True, False):
        with pytest.raises(SchemaOutOfDate, match="newer envparity"):
            open_store(url, migrate=migrate_)
    runner = CliRunner()
    for args in (["db", "upgrade"], ["list"], ["snapshot"]):
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 3, result.output
        assert "written by a newer envparity (schema 9999_future" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    current = runner.invoke(app, ["db", "current", "--db", url])
    assert current.exit_code == 0 and "9999_future (ahead" in current.output


@pytest.mark.postgres
def test_a_postgres_store_from_a_newer_envparity_is_left_untouched(pg_db: str) -> None:
    _stamp_future(pg_db)
    with pytest.raises(SchemaOutOfDate, match="newer envparity"):
        open_store(pg_db)
    with connect(pg_db) as store, pytest.raises(SchemaOutOfDate):
        store.upgrade()
    with connect(pg_db) as store:
        assert store.schema_info().revision == "9999_future"


@pytest.mark.postgres
def test_concurrent_db_upgrades_on_postgres_leave_one_correct_schema(pg_db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "envparity", "db", "upgrade", "--db", pg_db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    messages = sorted(err.strip().split(": ", 1)[1] for _, err in outputs)
    assert messages[-1] == f"upgraded from empty to {migrate.HEAD}"
    assert messages[:-1] == [f"already at {migrate.HEAD}"] * 2
    with connect(pg_db) as store:
        assert store.schema_info().state == "current"
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            versions = conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one()
            assert versions == 1
