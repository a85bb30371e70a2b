"""Content digests remembered between runs (envparity.collect.digests).

The digest of a distribution is a function of its RECORD; the cache may only ever save the work of
computing it, never change what a capture reports. Hand-made dist-info directories show each
rule (a rewrite is seen, a just-written RECORD is not remembered, a damaged cache is ignored); this
interpreter's own site-packages, installed by pip from real wheels, shows it on real RECORDs, with
the CLI in child processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Dict, List

import pytest
from _support import run_cli

from envparity.collect import digests, packages
from envparity.collect.interface import Context

OLD = time.time() - 3600  # an install an hour ago: older than the racy window


def _dist(site: Path, name: str, record: str, mtime: float = OLD) -> Path:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    path = info / "RECORD"
    path.write_text(record)
    os.utime(path, (mtime, mtime))
    return path


def _record(module: str, digest: str) -> str:
    return f"{module}.py,sha256={digest},10\n{module}-1.0.dist-info/RECORD,,\n"


def _contents(site: Path, home: Path, cache: bool = True) -> Dict[str, str]:
    ctx = Context(environ={"ENVPARITY_HOME": str(home)}, digest_cache=cache)
    found = packages.collect(ctx, path=[str(site)], conda_prefix="")
    assert ctx.errors == []
    return {p["name"]: p["content"] for p in found["packages"]}


def _cache_file(home: Path) -> Path:
    files = list((home / digests.KIND).glob("*.json"))
    assert len(files) == 1, files
    return files[0]


@pytest.fixture(autouse=True)
def _forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing read, nothing remembered in memory."""
    monkeypatch.setattr(packages, "RECORDS", {})
    monkeypatch.setattr(packages, "_PATHS", {})
    monkeypatch.setattr(packages, "_SOURCES", {})


def test_remembered_digest_equals_the_computed_one_and_skips_the_read(tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    _dist(site, "alpha", _record("alpha", "a" * 43))
    _dist(site, "beta", _record("beta", "b" * 43))
    uncached = _contents(site, home, cache=False)
    assert not (home / digests.KIND).exists()  # off means off: nothing written
    first = _contents(site, home)
    assert first == uncached and all(first.values())
    entries = json.loads(_cache_file(home).read_text())["entries"]
    assert sorted(v[2] for v in entries.values()) == sorted(first.values())
    packages.RECORDS.clear()
    assert _contents(site, home) == first
    # The second capture took both digests from the cache: no RECORD was read ...
    assert packages.RECORDS == {}
    # ... yet the lines are there when asked for (a finding, the store), read then.
    lines = packages.local_lines(first["alpha"])
    assert lines == packages.content_of(_record("alpha", "a" * 43)).lines


def test_a_rewritten_record_is_read_again_even_with_the_same_size(tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    path = _dist(site, "alpha", _record("alpha", "a" * 43))
    before = _contents(site, home)["alpha"]
    # A reinstall of other content: same size, another modification time (an hour later).
    path.write_text(_record("alpha", "c" * 43))
    os.utime(path, (OLD + 60, OLD + 60))
    after = _contents(site, home)["alpha"]
    assert after != before
    assert after == packages.content_of(_record("alpha", "c" * 43)).digest


def test_a_remembered_digest_whose_record_changed_since_gives_no_lines(tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    path = _dist(site, "alpha", _record("alpha", "a" * 43))
    digest = _contents(site, home)["alpha"]
    packages.RECORDS.clear()
    assert _contents(site, home)["alpha"] == digest  # from the cache: its lines not read
    path.write_text(_record("alpha", "d" * 43))  # changed after the capture
    assert packages.local_lines(digest) is None  # they would be another content's lines
    assert packages.read_here(digest)


def test_a_record_written_just_now_is_not_remembered(tmp_path: Path) -> None:
    # Within the file system's timestamp granularity a rewrite could keep size and mtime.
    site, home = tmp_path / "site", tmp_path / "home"
    path = _dist(site, "fresh", _record("fresh", "a" * 43), mtime=time.time())
    _dist(site, "old", _record("old", "b" * 43))
    _contents(site, home)
    entries = json.loads(_cache_file(home).read_text())["entries"]
    assert list(entries) == [str(site / "old-1.0.dist-info" / "RECORD")]
    os.utime(path, (OLD, OLD))
    _contents(site, home)
    assert len(json.loads(_cache_file(home).read_text())["entries"]) == 2


def test_unchanged_distributions_write_nothing_and_removed_ones_are_forgotten(
    tmp_path: Path,
) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    _dist(site, "alpha", _record("alpha", "a" * 43))
    gone = _dist(site, "beta", _record("beta", "b" * 43))
    _contents(site, home)
    cache = _cache_file(home)
    os.utime(cache, (OLD, OLD))
    written = cache.stat().st_mtime_ns
    _contents(site, home)
    assert cache.stat().st_mtime_ns == written  # read, not written again
    for child in gone.parent.iterdir():
        child.unlink()
    gone.parent.rmdir()
    assert list(_contents(site, home)) == ["alpha"]
    assert len(json.loads(cache.read_text())["entries"]) == 1


@pytest.mark.parametrize(
    "damage",
    [
        b"{not json",
        b'{"version": 1, "entries": []}',
        b'{"version": 99, "entries": {}}',
        b'{"version": 1, "entries": {"RECORD": [1, 2, "not-a-digest"]}}',
        b"[]",
        b"\xff\xfe",
    ],
)
def test_a_damaged_cache_is_as_good_as_none_and_is_replaced(tmp_path: Path, damage: bytes) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    path = _dist(site, "alpha", _record("alpha", "a" * 43))
    good = _contents(site, home)
    cache = _cache_file(home)
    cache.write_bytes(damage)
    assert _contents(site, home) == good
    entries = json.loads(cache.read_text())["entries"]
    assert entries == {str(path): [path.stat().st_size, path.stat().st_mtime_ns, good["alpha"]]}


def test_a_lying_entry_for_another_size_is_not_believed(tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    path = _dist(site, "alpha", _record("alpha", "a" * 43))
    good = _contents(site, home)
    cache = _cache_file(home)
    info = path.stat()
    entries = {str(path): [info.st_size + 1, info.st_mtime_ns, "f" * 64]}
    cache.write_text(json.dumps({"version": 1, "entries": entries}))
    assert _contents(site, home) == good


def test_a_symlink_in_place_of_the_cache_is_neither_followed_nor_replaced(tmp_path: Path) -> None:
    site, home = tmp_path / "site", tmp_path / "home"
    _dist(site, "alpha", _record("alpha", "a" * 43))
    good = _contents(site, home)
    cache = _cache_file(home)
    target = tmp_path / "elsewhere.json"
    target.write_text(cache.read_text())
    cache.unlink()
    cache.symlink_to(target)
    before = target.read_text()
    assert _contents(site, home) == good
    assert cache.is_symlink() and target.read_text() == before


def _site_digests(home: Path, db: Path) -> List[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(ENVPARITY_HOME=str(home), ENVPARITY_DB_URL=f"sqlite:///{db}")
    result = run_cli("snapshot", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    return sorted(p["content"] for p in snap["packages"] if p["content"])


def test_real_wheels_warm_cache_gives_the_same_snapshot_and_stores_every_list(
    tmp_path: Path,
) -> None:
    """This interpreter's distributions (real wheels, installed by pip): a cold start and a warm
    one report the same digests, and the warm one, which read no RECORD to find them, still
    gives a new store every RECORD list."""
    home = tmp_path / "home"
    cold = _site_digests(home, tmp_path / "cold.db")
    assert len(cold) > 20
    assert json.loads(_cache_file(home).read_text())["entries"]
    warm = _site_digests(home, tmp_path / "warm.db")
    assert warm == cold
    with sqlite3.connect(tmp_path / "warm.db") as conn:
        stored = {row[0] for row in conn.execute("SELECT digest FROM records")}
    assert set(warm) <= stored
