"""Label filters match the same snapshots on SQLite and PostgreSQL, whatever the key holds."""

from __future__ import annotations

import pytest
from store_fixtures import make_snapshot

from envparity.errors import BadInput
from envparity.store import open_store

# Keys SQLite's JSON path syntax cannot spell inside $."..." and keys that look like paths.
KEYS = ['q"k', "a.b", "x[0]", "$", "sp ace", "ünï", "back\\slash", "'quote", "k=v"]


def test_label_keys_match_identically_on_both_dialects(store_url: str) -> None:
    snaps = [
        make_snapshot(seq=i, snapshot_id=f"lab{i:02d}" + "0" * 20, labels={key: "3"})
        for i, key in enumerate(KEYS)
    ]
    with open_store(store_url) as store:
        for snap in snaps:
            store.save(snap)
        for key, snap in zip(KEYS, snaps):
            found = store.list_snapshots(labels={key: "3"})
            assert [r.snapshot_id for r in found] == [snap.snapshot_id], key
            assert store.list_snapshots(labels={key: "4"}) == [], key
            if "=" not in key:  # latest:KEY=VALUE cannot spell a key with "=" in it
                assert store.resolve(f"latest:{key}=3").snapshot_id == snap.snapshot_id, key
            assert len(store.environment_groups(labels={key: "3"})) == 1, key


def test_labels_and_limits_that_no_database_takes_are_bad_input(store_url: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(BadInput, match="not valid UTF-8"):
            store.list_snapshots(labels={"k": "\udcff"})
        with pytest.raises(BadInput, match="--limit"):
            store.list_snapshots(limit=2**63)
        with pytest.raises(BadInput, match="not valid UTF-8"):
            store.resolve("tag\udcff")
