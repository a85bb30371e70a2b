"""Faults a SQLite store meets on disk, named for what they are: damaged pages (not "table
environments already exists", not "empty"), a full disk and a file size limit under a read (not
"disk I/O error"). Planted as tests/faults plants them: real files, real child processes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from store_fixtures import make_snapshot

from envparity.store import open_store


def _cli(*args: str, env: Dict[str, str], prelude: str = "") -> subprocess.CompletedProcess:
    code = f"import sys\n{prelude}\nsys.argv = ['envparity'] + sys.argv[1:]\n"
    code += "from envparity.cli import main\nmain()\n"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=env, cwd=env["TMPDIR"], timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _one_error(done: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert done.returncode == code, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("envparity: error:")]
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> Dict[str, str]:
    from _support import isolated_env

    return isolated_env(tmp_path, tmp_path / "home", ENVPARITY_DB_TIMEOUT="10")


def _store(path: Path, count: int = 3) -> None:
    with open_store(f"sqlite:///{path}") as store:
        for i in range(count):
            store.save(make_snapshot(env=i, seq=i))
    with sqlite3.connect(path) as conn:  # everything in the main file, the WAL emptied
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _page_of_version_table(path: Path) -> Tuple[int, int]:
    """(offset, size) of the page that holds the schema version's row."""
    with sqlite3.connect(path) as conn:
        page = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return (int(page) - 1) * int(size), int(size)


def test_a_damaged_page_is_named_and_no_command_migrates_over_it(
    tmp_path: Path, env: Dict[str, str]
) -> None:
    path = tmp_path / "store.db"
    _store(path)
    offset, size = _page_of_version_table(path)
    data = bytearray(path.read_bytes())
    # The schema version's page turned into a well-formed empty leaf: what SQLite reads back is
    # "no version", and a migration would run over the existing tables.
    page = bytearray(size)
    page[0], page[5:7] = 0x0D, size.to_bytes(2, "big")
    data[offset : offset + size] = page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    url = f"sqlite:///{path}"
    for args in (["db", "info"], ["list"], ["show", "latest"], ["snapshot"], ["db", "upgrade"]):
        line = _one_error(_cli(*args, "--db", url, env=env), 3, "damaged", str(path))
        assert "already exists" not in line
    assert path.read_bytes() == before


def test_a_read_under_a_file_size_limit_names_the_limit(
    tmp_path: Path, env: Dict[str, str]
) -> None:
    path = tmp_path / "store.db"
    _store(path)
    assert not Path(f"{path}-shm").exists()  # a read must make it: a write SQLite needs
    limit = "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))"
    done = _cli("list", "--db", f"sqlite:///{path}", env=env, prelude=limit)
    _one_error(done, 3, "file size limit", "ulimit -f")


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    if not (hasattr(os, "geteuid") and os.geteuid() == 0) or shutil.which("mount") is None:
        pytest.skip("mounting a size-limited file system needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")


def test_a_read_on_a_full_disk_says_the_disk_is_full(tmp_path: Path, env: Dict[str, str]) -> None:
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "4m")
    try:
        path = mnt / "store.db"
        _store(path)
        with open(mnt / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        reads: List[List[str]] = [["list"], ["show", "latest"], ["db", "info"]]
        for args in reads:
            done = _cli(*args, "--db", f"sqlite:///{path}", env=env)
            _one_error(done, 3, "full", str(mnt))
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20, check=False)
