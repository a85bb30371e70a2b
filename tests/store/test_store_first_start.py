"""Sixteen serving containers starting together on a fresh SQLite store: one migrates it under
the file lock beside the database, the others wait for that lock and then store through the
stdlib path; every snapshot is stored, none spooled."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from _support import isolated_env

STARTS = 16


def test_sixteen_first_starts_on_a_fresh_sqlite_store_all_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    # A budget no busy machine reaches: the test is about who stores, not how fast.
    env = isolated_env(
        tmp_path, tmp_path / "home", ENVPARITY_DB_URL=f"sqlite:///{db}", ENVPARITY_DB_TIMEOUT="120"
    )
    ready, marks = tmp_path / "go", tmp_path / "alembic"
    marks.mkdir()
    gate = (
        "import os, sys, time\n"
        # Who migrates: a process that imports Alembic leaves a mark (exec keeps no finder).
        "class Mark:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'alembic':\n"
        f"            open(os.path.join({str(marks)!r}, str(os.getpid())), 'w').close()\n"
        "        return None\n"
        "sys.meta_path.insert(0, Mark())\n"
        f"while not os.path.exists({str(ready)!r}): time.sleep(0.005)\n"
        "sys.argv = ['envparity', 'run', '--budget', '240', '--', sys.executable, '-c', 'pass']\n"
        "from envparity.cli import main\n"
        "main()\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", gate],
            env=env,
            cwd=env["TMPDIR"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTS)
    ]
    ready.write_text("")
    records = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        lines = [ln for ln in err.splitlines() if '"envparity.startup"' in ln]
        assert len(lines) == 1, err
        records.append((json.loads(lines[0]), err))
    for record, err in records:
        assert record["stored"] == "store", err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == STARTS
    assert not [p for p in tmp_path.rglob("*") if "spool" in p.name and p.is_file()], (
        "a snapshot was spooled"
    )
    # One process migrated; the other fifteen waited on its lock and stored without Alembic.
    assert len(list(marks.iterdir())) == 1
