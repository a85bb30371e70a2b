"""``envparity run``'s default: nothing that talks to the database before the server starts.

The snapshot is spooled, compared with the cached baseline (or not, saying why), and the
detached writer stores it after ``exec``; ``--on-drift fail`` reads the baseline afresh first.
The spool's never-lose rules hold: a database that is down leaves the snapshot spooled for the
next start's writer or ``db flush``; a spool that cannot be written means storing now; two
writers at once store each snapshot once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Set

import pytest
from hook_helpers import CLOSED_PG_URL, envparity_cmd, log_record

from envparity.store import open_store

Env = Callable[..., Dict[str, str]]
# The server: its line on stdout proves that the exec happened.
SERVER = [sys.executable, "-c", "print('server up')"]


def _run(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    done = subprocess.run(
        envparity_cmd("run", "--budget", "60", *args, "--", *SERVER),
        env=env,
        cwd=env["TMPDIR"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "server up" in done.stdout, done.stderr
    return done


def _stored(url: str) -> Set[str]:
    with open_store(url) as store:
        return {s.snapshot_id for s in store.list_snapshots(limit=1000)}


def _until_stored(url: str, ids: Set[str], spool: Path, stderr: str = "") -> None:
    """Wait (a busy machine: generously) for the writer: every id stored, the spool empty."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        left = list(spool.glob("*.json")) if spool.is_dir() else []
        if ids <= _stored(url) and not left:
            return
        time.sleep(0.5)
    pytest.fail(f"not stored by the writer: {ids - _stored(url)}; spool {left}; {stderr}")


def _spool(env: Dict[str, str]) -> Path:
    return Path(env["ENVPARITY_HOME"]) / "spool"


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_warn_mode_stores_after_start_and_caches_the_baseline(
    dialect: str, hook_env: Env, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if dialect == "sqlite"
        else str(request.getfixturevalue("pg_db"))
    )
    env = hook_env(ENVPARITY_DEFER="1", ENVPARITY_DB_URL=url)
    open_store(url).close()  # migrated: the hook never migrates PostgreSQL
    first = _run(dict(env, ENVPARITY_DEFER="0"), "--role", "training")  # inline: the baseline
    base = str(log_record(first.stderr)["snapshot_id"])
    with open_store(url) as store:
        store.tag(base, "base")

    cold = _run(env, "--baseline", "base")
    record = log_record(cold.stderr)
    assert (record["deferred"], record["stored"], record["verdict"]) == (True, "spool", None)
    assert "not cached yet" in " ".join(record["problems"]), cold.stderr  # type: ignore[arg-type]
    _until_stored(url, {base, str(record["snapshot_id"])}, _spool(env), cold.stderr)

    warm = _run(env, "--baseline", "base")
    record = log_record(warm.stderr)
    # The cold start's writer read the baseline and cached it: this start compares with it.
    assert (record["baseline_source"], record["verdict"], record["problems"]) == (
        "cache",
        "none",
        [],
    ), warm.stderr
    _until_stored(url, {str(record["snapshot_id"])}, _spool(env), warm.stderr)


def test_warn_mode_imports_no_database_driver_before_exec(hook_env: Env, tmp_path: Path) -> None:
    env = hook_env(ENVPARITY_DEFER="1", ENVPARITY_DB_URL="postgresql+psycopg://u@127.0.0.1:1/x")
    probe = (
        "import sys, envparity.hook.startup as s\n"
        "def fake_exec(argv):\n"
        "    heavy = sorted(m for m in ('psycopg', 'sqlalchemy', 'sqlite3', 'pydantic')"
        " if m in sys.modules)\n"
        "    print('HEAVY', heavy); sys.exit(0)\n"
        "s.exec_command = fake_exec\n"
        "s.spawn = lambda job, environ: None\n"
        "s.run(['true'], baseline='base')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=env["TMPDIR"], capture_output=True, text=True
    )
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    assert log_record(done.stderr)["stored"] == "spool", done.stderr


@pytest.mark.postgres
def test_fail_mode_reads_the_baseline_fresh_and_defers_the_write(
    hook_env: Env, pg_db: str, write_baseline: Callable[..., Path]
) -> None:
    env = hook_env(ENVPARITY_DEFER="1", ENVPARITY_DB_URL=pg_db)
    open_store(pg_db).close()
    first = _run(dict(env, ENVPARITY_DEFER="0"))
    base = str(log_record(first.stderr)["snapshot_id"])
    with open_store(pg_db) as store:
        store.tag(base, "base")
    done = _run(env, "--baseline", "base", "--on-drift", "fail")
    record = log_record(done.stderr)
    assert (record["baseline_source"], record["verdict"], record["stored"]) == (
        "store",
        "none",
        "spool",
    ), done.stderr
    _until_stored(pg_db, {str(record["snapshot_id"])}, _spool(env), done.stderr)


def test_a_database_that_is_down_keeps_the_snapshot_spooled_until_flush(
    hook_env: Env, tmp_path: Path
) -> None:
    env = hook_env(ENVPARITY_DEFER="1", ENVPARITY_DB_URL=CLOSED_PG_URL, ENVPARITY_DB_TIMEOUT="2")
    ids = [str(log_record(_run(env).stderr)["snapshot_id"]) for _ in range(2)]
    # The writers failed (nothing listens): the snapshots wait in the spool, none lost.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(_spool(env).glob("*.json"))) != 2:
        time.sleep(0.5)
    time.sleep(3)  # a writer still trying would take one away
    assert sorted(p.name.split("-")[1][:32] for p in _spool(env).glob("*.json")) == sorted(ids)
    url = f"sqlite:///{tmp_path / 'later.db'}"
    flushed = subprocess.run(
        envparity_cmd("db", "flush", "--db", url), env=env, capture_output=True, text=True
    )
    assert flushed.returncode == 0 and "2 stored" in flushed.stdout, flushed.stderr
    assert set(ids) <= _stored(url)


def test_a_spool_that_cannot_be_written_means_storing_now(hook_env: Env, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()
    # Every spool candidate unusable (as tests/hook/test_hook_spool.py makes them): the writer
    # would have nothing to store, so the hook stores before exec, as without deferral.
    env = hook_env(
        ENVPARITY_DEFER="1",
        ENVPARITY_DB_URL=url,
        ENVPARITY_HOME="/proc/envparity-home",
        XDG_CACHE_HOME="/proc/nocache",
        HOME="/proc/nohome",
    )
    probe = (
        "import sys, tempfile, envparity.hook.startup as s\n"
        "tempfile.tempdir = '/proc'\n"
        "s.exec_command = lambda argv: sys.exit(0)\n"
        "s.run(['true'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=str(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    record = log_record(done.stderr)
    assert (record["stored"], record["deferred"]) == ("store", False), done.stderr
    problems = " ".join(record["problems"])  # type: ignore[arg-type]
    assert "not deferred: no writable spool directory" in problems, done.stderr
    assert "storing before start-up instead" in problems and "not kept" not in problems
    assert str(record["snapshot_id"]) in _stored(url)


def test_two_writers_at_once_store_each_snapshot_once(hook_env: Env, tmp_path: Path) -> None:
    from envparity.collect.capture import collect_data
    from envparity.hook.spool import spool_data

    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = hook_env(ENVPARITY_DB_URL=url)
    open_store(url).close()
    spool = tmp_path / "spool"
    base = collect_data(role="serving")
    ids: List[str] = []
    for i in range(20):
        data = dict(base, snapshot_id=f"{i:032x}")
        ids.append(data["snapshot_id"])
        spool_data(data, env, str(spool))
    job = json.dumps({"spool_dir": str(spool), "db_url": url})
    code = "import sys; from envparity.hook.writer import main; sys.exit(main(sys.argv))"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", code, job], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0 and not err.strip(), err
    _until_stored(url, set(ids), spool)
    with open_store(url) as store, store.engine.connect() as conn:
        import sqlalchemy as sa

        counted = conn.execute(
            sa.text("SELECT sightings FROM sighting_rollup WHERE role = 'serving'")
        ).scalar_one()
    assert counted == 20  # stored once each: the rollup's count is the sightings'
