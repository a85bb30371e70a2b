"""The spool and the baseline cache: atomic files, a bounded spool, fallbacks when a directory is
not writable, and a replay that stores each snapshot exactly once."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest
from hook_helpers import envparity_cmd

from envparity.hook import cache, flush, spool, spooled
from envparity.hook.spool import SpoolUnavailable
from envparity.model import Snapshot

# A directory no one can create, root included: /proc is not a place for files.
UNWRITABLE = "/proc/envparity-test-spool"


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last fallback spool lives under the system temp directory, which every process on the
    machine shares: a spool another test (or run) left there must not be counted here (under load
    one was: 5 files where 3 were kept)."""
    import tempfile

    (tmp_path / "tmp").mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    import envparity

    return envparity.snapshot(role="serving")


def copies(snap: Snapshot, n: int) -> List[Snapshot]:
    """``n`` sightings of the same environment, one second apart, oldest first."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [
        snap.model_copy(
            update={"snapshot_id": uuid.uuid4().hex, "captured_at": start + timedelta(seconds=i)}
        )
        for i in range(n)
    ]


def env_for(tmp_path: Path) -> Dict[str, str]:
    return {"ENVPARITY_HOME": str(tmp_path / "home"), "HOME": str(tmp_path / "user")}


def test_spool_writes_a_whole_valid_file_and_nothing_else(tmp_path: Path, snap: Snapshot) -> None:
    path = spool(snap, env_for(tmp_path), str(tmp_path / "spool"))
    assert os.path.dirname(path) == str(tmp_path / "spool")
    assert os.listdir(tmp_path / "spool") == [os.path.basename(path)]  # no temp file left
    assert Snapshot.model_validate_json(Path(path).read_text()) == snap


def test_spool_keeps_only_the_newest(tmp_path: Path, snap: Snapshot) -> None:
    environ = env_for(tmp_path)
    snaps = copies(snap, 5)
    for s in snaps:
        spool(s, environ, str(tmp_path / "spool"), keep=3)
    kept = [
        Snapshot.model_validate_json(Path(p).read_text()).snapshot_id
        for p in spooled(environ, str(tmp_path / "spool"))
    ]
    assert kept == [s.snapshot_id for s in snaps[2:]]


def test_unwritable_spool_dir_falls_back_to_envparity_home(tmp_path: Path, snap: Snapshot) -> None:
    path = spool(snap, env_for(tmp_path), UNWRITABLE)
    assert path.startswith(str(tmp_path / "home" / "spool") + os.sep)


def test_no_home_falls_back_to_the_temp_dir(
    tmp_path: Path, snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    path = spool(snap, {}, UNWRITABLE)
    assert path.startswith(str(tmp_path / "tmp" / f"envparity-{os.getuid()}" / "spool"))
    assert spooled({}, UNWRITABLE) == [path]


def test_nowhere_writable_is_an_error_naming_every_place(
    tmp_path: Path, snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", "/proc")
    environ = {"ENVPARITY_HOME": "/proc/envparity-home", "HOME": "/proc/nohome"}
    with pytest.raises(SpoolUnavailable) as raised:
        spool(snap, environ, UNWRITABLE)
    message = str(raised.value)
    for place in (UNWRITABLE, "/proc/envparity-home/spool", "/proc/nohome/.cache"):
        assert place in message


def test_flush_stores_each_snapshot_once_and_empties_the_spool(
    tmp_path: Path, snap: Snapshot
) -> None:
    from envparity.store import open_store

    environ = env_for(tmp_path)
    snaps = copies(snap, 3)
    for s in snaps:
        spool(s, environ)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        store.save(snaps[0])  # already there: replayed before, or stored late by the hook
        first = flush(store, environ)
        second = flush(store, environ)
        stored = {s.snapshot_id for s in store.list_snapshots()}
    assert (first.stored, first.already_stored, first.error) == (2, 1, None)
    assert (second.stored, second.already_stored) == (0, 0)
    assert stored == {s.snapshot_id for s in snaps}
    assert spooled(environ) == []


def test_flush_sets_an_invalid_file_aside(tmp_path: Path, snap: Snapshot) -> None:
    from envparity.store import open_store

    environ = env_for(tmp_path)
    good = spool(snap, environ)
    bad = Path(good).with_name("20250101T000000000000Z-bad.json")
    bad.write_text('{"not": "a snapshot"}')
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        result = flush(store, environ)
    assert result.stored == 1
    assert [p for p, _ in result.invalid] == [str(bad)]
    assert Path(str(bad) + ".invalid").exists()
    assert spooled(environ) == []


def test_concurrent_flushes_store_each_snapshot_exactly_once(
    tmp_path: Path, snap: Snapshot, hook_env
) -> None:
    from envparity.store import open_store

    env = hook_env()
    environ = {"ENVPARITY_HOME": env["ENVPARITY_HOME"]}
    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()  # migrated once, so the two flushes race only on the snapshots
    snaps = copies(snap, 20)
    for s in snaps:
        spool(s, environ)
    procs = [
        subprocess.Popen(
            envparity_cmd("db", "flush", "--db", url),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    stored = sum(int(out.split(": ")[1].split(" stored")[0]) for out, _ in outputs)
    assert stored == 20, outputs
    with open_store(url) as store:
        ids = [s.snapshot_id for s in store.list_snapshots(limit=100)]
    assert sorted(ids) == sorted(s.snapshot_id for s in snaps)
    assert spooled(environ) == []


def test_baseline_cache_round_trip_per_database_and_ref(tmp_path: Path, snap: Snapshot) -> None:
    environ = env_for(tmp_path)
    old, new = copies(snap, 2)
    assert cache.recall("fraud-train", "postgresql://db/a", environ) is None
    cache.remember("fraud-train", "postgresql://db/a", old, environ)
    path = cache.remember("fraud-train", "postgresql://db/a", new, environ)
    assert path is not None and "postgresql" not in path  # the URL never reaches the disk
    assert cache.recall("fraud-train", "postgresql://db/a", environ) == new
    assert len(os.listdir(os.path.dirname(path))) == 1  # the superseded copy is gone
    assert cache.recall("fraud-train", "postgresql://db/b", environ) is None
    assert cache.recall("other", "postgresql://db/a", environ) is None


def test_a_temp_dir_planted_by_someone_else_is_not_used(
    tmp_path: Path, snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"envparity-{os.getuid()}"
    (tmp_path / "attacker").mkdir()
    planted.symlink_to(tmp_path / "attacker")  # not a directory of ours: a symlink
    (tmp_path / "attacker" / "spool").mkdir()
    fake = copies(snap, 1)[0]
    (tmp_path / "attacker" / "spool" / "20250101T000000000000Z-fake.json").write_text(
        fake.model_dump_json()
    )
    assert spooled({}) == []  # a planted snapshot is never replayed into the store
    with pytest.raises(SpoolUnavailable):
        spool(snap, {}, UNWRITABLE)
    assert len(os.listdir(tmp_path / "attacker" / "spool")) == 1
