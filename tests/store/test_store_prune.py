"""``envparity db prune``: one test per retention rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot
from envparity.store import open_store
from envparity.store.prune import prune

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CUTOFF = NOW - timedelta(days=30)


def _snap(n: int, days_ago: float, numpy: str = "1.26.4") -> Snapshot:
    return Snapshot(
        snapshot_id=f"{n:032x}",
        captured_at=NOW - timedelta(days=days_ago),
        role="serving",
        packages=[Package(name="numpy", version=numpy)],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(hostname=f"host-{n}"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


def _ids(url: str) -> set:
    with open_store(url) as store, store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT snapshot_id FROM sightings")).scalars())


def _count(url: str, table: str) -> int:
    with open_store(url) as store, store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _fill(url: str, *snaps: Snapshot) -> None:
    with open_store(url) as store:
        for s in snaps:
            store.save(s)


def test_old_sightings_go_recent_and_the_latest_stay_and_dry_run_deletes_nothing(store_url):
    snaps = [_snap(1, 90), _snap(2, 60), _snap(3, 40), _snap(4, 5)]  # one environment
    _fill(store_url, *snaps)
    with open_store(store_url) as store:
        plan = prune(store, CUTOFF, dry_run=True)
    assert plan.snapshot_ids == [snaps[0].snapshot_id, snaps[1].snapshot_id, snaps[2].snapshot_id]
    assert _ids(store_url) == {s.snapshot_id for s in snaps}  # the dry run deleted nothing
    with open_store(store_url) as store:
        done = prune(store, CUTOFF)
    assert done.snapshot_ids == plan.snapshot_ids and done.sightings == 3
    assert _ids(store_url) == {snaps[3].snapshot_id}
    assert done.environments == 0 and _count(store_url, "environments") == 1


def test_a_tagged_snapshot_is_never_deleted(store_url):
    old, new = _snap(1, 90), _snap(2, 80)
    _fill(store_url, old, new, _snap(3, 1))
    with open_store(store_url) as store:
        store.tag(old.snapshot_id, "fraud-train")
        result = prune(store, CUTOFF)
    assert old.snapshot_id in _ids(store_url)
    assert new.snapshot_id not in _ids(store_url)
    assert result.kept_tagged == 1
    with open_store(store_url) as store:
        assert store.resolve("fraud-train").snapshot_id == old.snapshot_id


def test_a_snapshot_in_a_tags_history_is_never_deleted(store_url):
    first, second = _snap(1, 90), _snap(2, 80)
    _fill(store_url, first, second, _snap(3, 70), _snap(4, 1))
    with open_store(store_url) as store:
        store.tag(first.snapshot_id, "fraud-train")
        store.tag(second.snapshot_id, "fraud-train")  # moved: first is in its history now
        prune(store, CUTOFF)
        history = store.tag_history("fraud-train")
    assert {first.snapshot_id, second.snapshot_id} <= _ids(store_url)
    assert _snap(3, 70).snapshot_id not in _ids(store_url)
    assert [e.snapshot_id for e in history][-2:] in (
        [first.snapshot_id, second.snapshot_id],
        [second.snapshot_id, first.snapshot_id],
    )


def test_the_latest_n_sightings_of_each_environment_stay(store_url):
    a = [_snap(i, 100 - i, "1.26.4") for i in range(1, 5)]  # all old: 96..99 days
    b = [_snap(i, 100 - i, "2.3.5") for i in range(11, 14)]  # another environment, all old
    _fill(store_url, *a, *b)
    with open_store(store_url) as store:
        result = prune(store, CUTOFF, keep_latest=2)
    # The two newest of each environment, however old.
    assert _ids(store_url) == {a[3].snapshot_id, a[2].snapshot_id, b[2].snapshot_id,
                               b[1].snapshot_id}
    assert result.kept_latest == 4 and result.environments == 0
    with open_store(store_url) as store:
        prune(store, CUTOFF)  # default: the latest one
    assert _ids(store_url) == {a[3].snapshot_id, b[2].snapshot_id}


def test_an_environment_goes_only_when_no_sighting_refers_to_it(store_url):
    gone, kept_env = _snap(1, 90, "1.0.0"), _snap(2, 90, "2.0.0")
    _fill(store_url, gone, kept_env, _snap(3, 1, "2.0.0"))
    assert _count(store_url, "environments") == 2
    with open_store(store_url) as store:
        result = prune(store, CUTOFF, keep_latest=0)
    assert result.fingerprints == [gone.fingerprint]
    assert _count(store_url, "environments") == 1  # the 2.0.0 one still has a recent sighting
    with open_store(store_url) as store, store.engine.connect() as conn:
        left = set(conn.execute(sa.text("SELECT fingerprint FROM packages")).scalars())
    assert left == {kept_env.fingerprint}
    with open_store(store_url) as store:
        assert store.get_environment(kept_env.fingerprint).fingerprint == kept_env.fingerprint


def test_cli_dry_run_json_and_bad_age(store_url):
    from envparity.cli import app

    _fill(store_url, _snap(1, 90), _snap(2, 60), _snap(3, 1))
    runner = CliRunner()
    text = runner.invoke(app, ["db", "prune", "--older-than", "30d", "--dry-run",
                               "--db", store_url])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("would delete 2 sightings and 0 environments captured before")
    out = runner.invoke(app, ["db", "prune", "--older-than", "30d", "--json", "--db", store_url])
    assert json.loads(out.output)["sightings"] == 2
    assert len(_ids(store_url)) == 1
    bad = runner.invoke(app, ["db", "prune", "--older-than", "a month", "--db", store_url])
    assert bad.exit_code == 2
    assert "--older-than 'a month': expected a duration" in bad.output
    neg = runner.invoke(app, ["db", "prune", "--older-than", "1d", "--keep-latest", "-1",
                              "--db", store_url])
    assert neg.exit_code == 2


@pytest.mark.parametrize("days", [0.5])
def test_nothing_recent_is_touched(store_url, days):
    _fill(store_url, _snap(1, days))
    with open_store(store_url) as store:
        assert prune(store, CUTOFF, keep_latest=0).sightings == 0
    assert len(_ids(store_url)) == 1


def test_a_tag_can_only_name_a_stored_snapshot_and_a_tagged_one_cannot_be_deleted(store_url):
    """Migration 0006 guards the tags with triggers instead of foreign keys: what an older
    client's plain SQL (or anything else) writes is refused as the foreign keys refused it."""
    tagged, other = _snap(1, 90), _snap(2, 80)
    _fill(store_url, tagged, other)
    with open_store(store_url) as store:
        store.tag(tagged.snapshot_id, "fraud-train")
        for sql in (
            "INSERT INTO tags (name, snapshot_id, tagged_at) VALUES ('x', 'f' || :id, :at)",
            "INSERT INTO tag_history (name, snapshot_id, tagged_at) VALUES ('x', 'f' || :id, :at)",
            "UPDATE tags SET snapshot_id = 'f' || :id WHERE tagged_at <> :at",
            "DELETE FROM sightings WHERE snapshot_id = :id",  # the tag names it
        ):
            with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
                conn.execute(sa.text(sql), {"id": tagged.snapshot_id, "at": NOW})
        # A sighting no tag names still goes with a plain DELETE; a tag may move to a stored one.
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM sightings WHERE snapshot_id = :id"),
                         {"id": other.snapshot_id})
        store.tag(tagged.snapshot_id, "again")
        assert store.resolve("fraud-train").snapshot_id == tagged.snapshot_id
    assert _ids(store_url) == {tagged.snapshot_id}


def test_a_snapshot_tagged_while_the_prune_runs_is_kept(store_url, monkeypatch):
    """The prune decides what to keep first; a tag made after that (a `tag` command racing it)
    makes its batch's DELETE refuse, and the prune keeps that snapshot and goes on."""
    from envparity.store import prune as prune_module

    snaps = [_snap(i, 90 - i) for i in range(1, 6)] + [_snap(9, 1)]
    _fill(store_url, *snaps)
    real = prune_module._tagged
    calls = []

    def tagged_late(conn):  # the keep set is made before the tag; later reads see it
        calls.append(1)
        return set() if len(calls) == 1 else real(conn)

    monkeypatch.setattr(prune_module, "_tagged", tagged_late)
    with open_store(store_url) as store:
        store.tag(snaps[2].snapshot_id, "raced")
        result = prune(store, CUTOFF)
    assert len(calls) >= 2  # the refused DELETE made the prune read the tags again
    assert _ids(store_url) == {snaps[2].snapshot_id, snaps[-1].snapshot_id}
    assert result.sightings == 4 and result.kept_tagged == 1
    assert snaps[2].snapshot_id not in result.snapshot_ids
    with open_store(store_url) as store:
        assert store.resolve("raced").snapshot_id == snaps[2].snapshot_id


def test_sightings_of_one_instant_beyond_a_batch_go_in_one_batch(store_url, monkeypatch):
    from envparity.store import prune as prune_module

    monkeypatch.setattr(prune_module, "_BATCH", 2)
    same = [_snap(i, 60) for i in range(1, 6)]  # five sightings at one captured_at
    _fill(store_url, *same, _snap(7, 50), _snap(8, 1))
    with open_store(store_url) as store:
        result = prune(store, CUTOFF)
    assert result.sightings == 6 and result.batches == 2
    assert _ids(store_url) == {_snap(8, 1).snapshot_id}
