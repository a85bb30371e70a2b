"""A fleet upgrades one container at a time: a store migrated to a new head keeps serving the
clients one schema step behind it, read commands never migrate, and only an empty or an
envparity SQLite file is ever migrated.

The older client is the real one: the commit before the newest migration, taken from this
repository's history and installed (cached outside the repo, keyed by commit).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import sqlalchemy as sa
from store_fixtures import make_snapshot

from envparity.store import connect, migrate, open_store

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from _stacks import cache_root  # noqa: E402


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _previous_client() -> Optional[str]:
    """The commit just before the newest one that added this head's migration script, or None.

    The newest: a script written on a branch may be added again where it lands on top of the
    migrations merged before it (its parent is then the real previous client)."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        return None
    added = _git(
        "log", "--diff-filter=A", "--format=%H", "--", f"migrations/versions/{migrate.HEAD}.py"
    ).splitlines()
    if not added:
        return None
    return _git("rev-parse", f"{added[0]}^")


@pytest.fixture(scope="module")
def old_client() -> Path:
    """The previous client installed into a directory of its own (put first on PYTHONPATH)."""
    commit = _previous_client()
    if commit is None:
        pytest.skip("not a git checkout with the migration's history: no older client to install")
    source = _git("show", f"{commit}:envparity/store/migrate.py")
    if "def usable(" not in source:
        pytest.skip(f"{commit[:12]} predates the schema_compat protocol: nothing to hold it to")
    target = cache_root() / "old-clients" / commit
    if not (target / "envparity").is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            tree, site = Path(work) / "src", Path(work) / "site"
            tree.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
            done = subprocess.run(
                [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                 "--no-build-isolation", "--target", str(site), str(tree)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            os.replace(site, target)
    return target


def _run(client: Optional[Path], *args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    env = dict(env)
    if client is not None:
        env["PYTHONPATH"] = str(client)
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True, text=True, env=env, cwd=env["TMPDIR"], check=False,
    )  # fmt: skip


@pytest.fixture
def cli_env(tmp_path: Path) -> Dict[str, str]:
    from _support import isolated_env

    return isolated_env(tmp_path, tmp_path / "home", ENVPARITY_DB_TIMEOUT="20")


def _revision(url: str) -> Optional[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.current_revision(conn)
    finally:
        engine.dispose()


def _tables(url: str) -> List[str]:
    engine = sa.create_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- the previous client against the migrated store --------------------------------------------


def test_the_previous_client_writes_and_reads_a_store_at_this_head(
    old_client: Path, store_url: str, cli_env: Dict[str, str]
) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import envparity, envparity.store.migrate as m; "
         "print(envparity.__file__); print(m.HEAD)"],
        capture_output=True, text=True, env={**cli_env, "PYTHONPATH": str(old_client)},
        cwd=cli_env["TMPDIR"], check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    path, old_head = probe.stdout.split()
    assert path.startswith(str(old_client)), path
    assert old_head == migrate.REVISIONS[-2]
    # This envparity migrates the store; the previous client keeps using it.
    up = _run(None, "db", "upgrade", "--db", store_url, env=cli_env)
    assert up.returncode == 0, up.stderr
    assert _revision(store_url) == migrate.HEAD
    snap = _run(old_client, "snapshot", "--db", store_url, "--role", "old", "--json", env=cli_env)
    assert snap.returncode == 0, snap.stderr
    sid = json.loads(snap.stdout)["snapshot_id"]
    for args in (["show", sid], ["list"], ["tag", sid, "old-one"], ["show", "old-one"]):
        done = _run(old_client, *args, "--db", store_url, env=cli_env)
        assert done.returncode == 0, (args, done.stderr)
    hook = _run(old_client, "run", "--db", store_url, "--baseline", "old-one", "--budget", "120",
                "--", sys.executable, "-c", "pass", env=cli_env)  # fmt: skip
    assert hook.returncode == 0, hook.stderr
    record = json.loads([ln for ln in hook.stderr.splitlines() if "envparity.startup" in ln][0])
    assert record["stored"] == "store", hook.stderr
    # This envparity reads what the previous one wrote.
    with open_store(store_url, migrate=False) as store:
        assert store.resolve("old-one").snapshot_id == sid
        assert len(store.list_snapshots()) == 2
    assert _revision(store_url) == migrate.HEAD  # nobody moved it


# --- compat rows: accept what says it is compatible, refuse what does not ----------------------


def _stamp(url: str, revision: str, min_reader: Optional[str]) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
            if min_reader is not None:
                conn.execute(
                    sa.text("INSERT INTO schema_compat (revision, min_reader) VALUES (:r, :m)"),
                    {"r": revision, "m": min_reader},
                )
    finally:
        engine.dispose()


def test_a_newer_head_that_names_this_schema_is_read_and_written(
    store_url: str, cli_env: Dict[str, str]
) -> None:
    with connect(store_url) as store:
        store.upgrade()
    _stamp(store_url, "9999_future", migrate.HEAD)
    snap = make_snapshot()
    with open_store(store_url) as store:
        store.save(snap)
        assert store.get(snap.snapshot_id) == snap
        assert store.schema_info().sightings == 1
    listed = _run(None, "list", "--db", store_url, env=cli_env)
    assert listed.returncode == 0 and snap.snapshot_id[:12] in listed.stdout, listed.stderr
    assert _revision(store_url) == "9999_future"


@pytest.mark.parametrize("min_reader", ["9998_unknown", None], ids=["too-new", "no-row"])
def test_a_newer_head_that_does_not_name_this_schema_is_refused(
    store_url: str, cli_env: Dict[str, str], min_reader: Optional[str]
) -> None:
    with connect(store_url) as store:
        store.upgrade()
    _stamp(store_url, "9999_future", min_reader)
    for args in (["list"], ["show", "latest"], ["snapshot"]):
        done = _run(None, *args, "--db", store_url, env=cli_env)
        assert done.returncode == 3, done.stderr
        lines = [ln for ln in done.stderr.splitlines() if ln.startswith("envparity: error:")]
        assert len(lines) == 1 and "newer envparity" in lines[0], done.stderr
        assert "9999_future" in lines[0] and "Traceback" not in done.stderr
    assert _revision(store_url) == "9999_future"


def test_this_client_uses_a_store_one_step_behind_without_migrating_it(
    store_url: str, cli_env: Dict[str, str]
) -> None:
    with connect(store_url) as store:
        store.upgrade(migrate.OLDEST_STORE)
    snap = make_snapshot()
    with open_store(store_url, migrate=False) as store:
        store.save(snap)
        assert store.resolve(snap.snapshot_id) == snap
    assert _revision(store_url) == migrate.OLDEST_STORE


# --- who migrates ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_read_commands_never_migrate_a_postgresql_store(
    pg_db: str, cli_env: Dict[str, str]
) -> None:
    with connect(pg_db) as store:
        store.upgrade(migrate.REVISIONS[0])
    for args in (["list"], ["show", "latest"], ["fleet"], ["snapshot"], ["tag", "x", "y"]):
        done = _run(None, *args, "--db", pg_db, env=cli_env)
        assert done.returncode == 3, (args, done.stderr)
        assert "envparity db upgrade" in done.stderr, done.stderr
        assert _revision(pg_db) == migrate.REVISIONS[0], args
    up = _run(None, "db", "upgrade", "--db", pg_db, env=cli_env)
    assert up.returncode == 0 and _revision(pg_db) == migrate.HEAD, up.stderr


def test_read_commands_never_migrate_an_older_sqlite_store(
    tmp_path: Path, cli_env: Dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with connect(url) as store:
        store.upgrade(migrate.REVISIONS[0])
    before = (tmp_path / "old.db").read_bytes()
    for args in (["list"], ["show", "latest"], ["fleet"], ["tag", "--history", "x"]):
        done = _run(None, *args, "--db", url, env=cli_env)
        assert done.returncode == 3 and "envparity db upgrade" in done.stderr, done.stderr
    assert _revision(url) == migrate.REVISIONS[0]
    assert (tmp_path / "old.db").read_bytes() == before
    snap = _run(None, "snapshot", "--db", url, env=cli_env)  # a write migrates its own file
    assert snap.returncode == 0, snap.stderr
    assert _revision(url) == migrate.HEAD


def test_a_read_on_a_store_not_created_yet_creates_nothing(
    tmp_path: Path, cli_env: Dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    done = _run(None, "list", "--db", url, env=cli_env)
    assert done.returncode == 0 and "no snapshots stored yet" in done.stderr, done.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    "args", [["list"], ["snapshot"], ["db", "upgrade"], ["db", "info"], ["show", "latest"]]
)
def test_an_unrelated_sqlite_database_is_never_migrated(
    tmp_path: Path, cli_env: Dict[str, str], args: List[str]
) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.close()
    done = _run(None, *args, "--db", f"sqlite:///{path}", env=cli_env)
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("envparity: error:")]
    assert len(lines) == 1 and "not an envparity store" in lines[0], done.stderr
    assert str(path) in lines[0] and "users" in lines[0]
    assert _tables(f"sqlite:///{path}") == ["users"]
