"""The lean start-up path: capture, store to SQLite and read the baseline as plain data, with no
pydantic, Typer, SQLAlchemy or Rich import; and its rows are the ones Store.save writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hook_helpers import log_record

HEAVY = ("pydantic", "typer", "click", "sqlalchemy", "rich", "alembic")

PROBE = """
import json, sys
import envparity
ref = sys.argv[1] or None
from envparity.hook.check import _work, Outcome
from envparity.hook.config import load_config
import os
config, _ = load_config(os.environ, baseline=ref)
outcome = Outcome(config)
_work(outcome, os.environ)
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2].split(',')))
print(json.dumps({"stored": outcome.stored, "source": outcome.baseline_source,
                  "problems": outcome.problems, "heavy": heavy}))
"""


def _probe(env, ref: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ref, ",".join(HEAVY)],
        env=env,
        cwd=env["TMPDIR"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_capture_store_and_baseline_read_import_nothing_heavy(hook_env, tmp_path: Path) -> None:
    import envparity
    from envparity.store import open_store

    env = hook_env()
    with open_store(f"sqlite:///{env['ENVPARITY_HOME']}/envparity.db") as store:
        base = envparity.snapshot(role="training")
        store.save(base)
        store.tag(base.snapshot_id, "fraud-train")
    plain = _probe(env, "")
    assert plain == {"stored": "store", "source": None, "problems": [], "heavy": []}
    # With a baseline tag the comparison is the one step that still builds the pydantic models
    # (envparity.hook.compare.compare); everything before it is plain data.
    tagged = _probe(env, "fraud-train")
    assert tagged["stored"] == "store" and tagged["source"] == "store", tagged
    assert set(tagged["heavy"]) <= {"pydantic"}, tagged


def test_the_plain_rows_are_the_rows_store_save_writes(tmp_path: Path) -> None:
    from envparity.collect.capture import collect_data, to_snapshot
    from envparity.store.rows import rows, rows_from_data

    data = collect_data(role="serving", labels={"model": "fraud"})
    plain, model = rows_from_data(data), rows(to_snapshot(data))
    written_at = ("stored_at", "created_at")
    assert plain.fingerprint == model.fingerprint == data["fingerprint"]
    assert plain.packages == model.packages
    assert {k: v for k, v in plain.environment.items() if k not in written_at} == {
        k: v for k, v in model.environment.items() if k not in written_at
    }
    assert {k: v for k, v in plain.sighting.items() if k not in written_at} == {
        k: v for k, v in model.sighting.items() if k not in written_at
    }


def test_the_cli_run_stores_and_starts(hook_env) -> None:
    env = hook_env()
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--budget", "15", "--", sys.executable, "-c",
         "print('up')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    assert log_record(done.stderr)["stored"] == "store"


@pytest.mark.postgres
def test_a_healthy_postgresql_is_used_without_sqlalchemy(fresh_pg: str, hook_env) -> None:
    import envparity
    from envparity.store import open_store

    with open_store(fresh_pg) as store:  # migrated here: the hook never migrates PostgreSQL
        base = envparity.snapshot(role="training")
        store.save(base)
        store.tag(base.snapshot_id, "fraud-train")
    env = hook_env(ENVPARITY_DB_URL=fresh_pg)
    assert _probe(env, "") == {"stored": "store", "source": None, "problems": [], "heavy": []}
    tagged = _probe(env, "fraud-train")
    assert tagged["stored"] == "store" and tagged["source"] == "store", tagged
    assert set(tagged["heavy"]) <= {"pydantic"}, tagged  # the comparison, for now
