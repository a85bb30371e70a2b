"""RECORD lists stored once by content (migration 0005), so a finding names the files that differ.

Two real venvs with the same version of a distribution built twice (other bytes in one file), each
snapshot through the CLI with ``--python`` into one SQLite store by the lean sqlite3 path and by
the SQLAlchemy store; ``diff`` of the two stored ids names the file.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from _support import isolated_env, run_cli

from envparity.store import open_store


@pytest.mark.parametrize("first_path", ["fast", "store"])
def test_a_rebuilt_distribution_is_one_finding_naming_its_file(
    tmp_path, make_venv, make_wheel, first_path
):
    one = make_wheel("alpha", "1.0", files={"alpha/__init__.py": "X = 1\n", "alpha/io.py": ""})
    other_dir = tmp_path / "rebuilt"
    from _support import build_wheel

    two = build_wheel(other_dir, "alpha", "1.0", files={"alpha/__init__.py": "X = 2\n",
                                                       "alpha/io.py": ""})
    a, b = make_venv("a"), make_venv("b")
    a.install(one)
    b.install(two)
    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    env = isolated_env(tmp_path, tmp_path / "home", ENVPARITY_DB_URL=url)
    if first_path == "store":
        with open_store(url):
            pass  # the schema exists: `snapshot` takes the lean sqlite3 path from now on
    ids = []
    for venv in (a, b):
        result = run_cli("snapshot", "--python", str(venv.python), "--json", env=env)
        assert result.returncode == 0, result.stderr
        ids.append(json.loads(result.stdout)["snapshot_id"])
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT digest, files FROM records").fetchall())
    with open_store(url) as store:
        snaps = [store.resolve(i) for i in ids]
        digests = [next(p.content for p in s.packages if p.name == "alpha") for s in snaps]
        assert digests[0] != digests[1]
        assert set(digests) <= set(stored)
        lines = store.records(digests)
    assert any(line.startswith("alpha/__init__.py,sha256=") for line in lines[digests[0]])
    result = run_cli("diff", ids[0], ids[1], "--format", "json", env=env)
    assert result.returncode in (0, 1), result.stderr
    findings = [f for f in json.loads(result.stdout)["findings"] if f["category"] == "package"]
    assert [f["key"] for f in findings] == ["alpha.content"]
    assert "1 file(s) differ (alpha/__init__.py)" in findings[0]["why"]
