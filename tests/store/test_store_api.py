"""The Store API on real SQLite files and a real PostgreSQL: what other modules rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from store_fixtures import T0, make_snapshot

from envparity.errors import BadInput
from envparity.store import open_store
from envparity.store import tables as t


def _count(store, table) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_round_trip_gives_back_an_equal_snapshot(store_url: str) -> None:
    snap = make_snapshot()
    with open_store(store_url) as store:
        assert store.save(snap) is True
        back = store.get(snap.snapshot_id)
    assert back == snap
    # Instance-only values at every depth came back, not just the identity.
    assert back.gpus.devices[1].uuid == "GPU-host-0-1"
    assert back.packages[0].location == "/venv/site"
    assert back.packages[-1].location == "/opt/other"
    assert back.benchmarks == snap.benchmarks and back.numerics == snap.numerics


def test_round_trip_of_a_real_capture(store_url: str) -> None:
    import envparity

    snap = envparity.snapshot(role="training", labels={"model": "fraud"})
    with open_store(store_url) as store:
        store.save(snap)
        assert store.get(snap.snapshot_id) == snap


def test_saving_the_same_snapshot_twice_is_a_no_op(store_url: str) -> None:
    snap = make_snapshot()
    with open_store(store_url) as store:
        assert store.save(snap) is True
        assert store.save(snap) is False
        assert _count(store, t.sightings) == 1
        assert _count(store, t.environments) == 1


def test_identical_environments_share_one_row(store_url: str) -> None:
    a = make_snapshot(env=1, seq=1, host="a")
    b = make_snapshot(env=1, seq=2, host="b")
    c = make_snapshot(env=2, seq=3)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    with open_store(store_url) as store:
        for snap in (a, b, c):
            assert store.save(snap)
        assert _count(store, t.environments) == 2
        assert _count(store, t.sightings) == 3
        # 41 packages per environment, indexed for "who runs variant==1.0".
        assert _count(store, t.packages) == 2 * 41
        with store.engine.connect() as conn:
            who = conn.execute(
                sa.select(t.packages.c.fingerprint).where(
                    t.packages.c.name == "variant", t.packages.c.version == "1.0"
                )
            ).scalars()
            assert list(who) == [a.fingerprint]
        assert store.get(b.snapshot_id) == b


def test_a_snapshot_whose_fingerprint_lies_is_refused(store_url: str) -> None:
    snap = make_snapshot()
    edited = snap.model_copy(update={"role": "x", "cpu": snap.cpu.model_copy(update={"flags": []})})
    with open_store(store_url) as store, pytest.raises(BadInput, match="does not match"):
        store.save(edited)


def test_refs_resolve_by_id_prefix_tag_and_latest(store_url: str) -> None:
    train = make_snapshot(role="training", seq=1, snapshot_id="aaaaaa11" + "0" * 24)
    s1 = make_snapshot(role="serving", seq=2, labels={"model": "fraud"}, snapshot_id="bbbbbb11")
    s2 = make_snapshot(role="serving", seq=3, labels={"model": "churn"}, snapshot_id="bbbbbb22")
    with open_store(store_url) as store:
        for snap in (train, s1, s2):
            store.save(snap)
        assert store.resolve(train.snapshot_id) == train
        assert store.resolve("aaaaaa1") == train
        assert store.resolve("latest") == s2
        assert store.resolve("latest:role=serving,model=fraud") == s1
        assert store.resolve("latest:role=training") == train
        assert store.resolve("latest:model=churn") == s2
        store.tag("latest:role=training", "fraud-train")
        assert store.resolve("fraud-train") == train


def test_unknown_and_ambiguous_refs_name_candidates(store_url: str) -> None:
    with open_store(store_url) as store:
        store.save(make_snapshot(seq=1, snapshot_id="bbbbbb11"))
        store.save(make_snapshot(seq=2, snapshot_id="bbbbbb22"))
        store.tag("bbbbbb11", "fraud-train")
        with pytest.raises(BadInput, match=r"ambiguous.*bbbbbb22.*bbbbbb11"):
            store.resolve("bbbbbb")
        with pytest.raises(BadInput, match="nearest: fraud-train"):
            store.resolve("fraud-trian")
        with pytest.raises(BadInput, match="6\\+ characters"):
            store.resolve("bbb")
        with pytest.raises(BadInput, match="no stored snapshot matches"):
            store.resolve("latest:role=nope")
        with pytest.raises(BadInput, match="KEY=VALUE"):
            store.resolve("latest:role")
        with pytest.raises(BadInput, match="not in the store"):
            store.get("nope")


def test_moving_a_tag_keeps_its_history(store_url: str) -> None:
    a, b = make_snapshot(seq=1), make_snapshot(seq=2)
    with open_store(store_url) as store:
        store.save(a)
        store.save(b)
        store.tag(a.snapshot_id, "prod")
        store.tag(a.snapshot_id, "prod")  # no move, no history
        store.tag(b.snapshot_id, "prod")
        assert store.resolve("prod") == b
        history = store.tag_history("prod")
        assert [(e.snapshot_id, e.previous_snapshot_id) for e in history] == [
            (b.snapshot_id, a.snapshot_id),
            (a.snapshot_id, None),
        ]
        assert store.list_snapshots(limit=1)[0].tags == ["prod"]
        with pytest.raises(BadInput, match="no such tag.*nearest: prod"):
            store.tag_history("prd")
        for bad in ("latest", "has space", "x.json", "a/b", ""):
            with pytest.raises(BadInput, match="tag name"):
                store.tag(a.snapshot_id, bad)


def test_list_is_newest_first_and_filters(store_url: str) -> None:
    snaps = [
        make_snapshot(seq=i, role="serving" if i % 2 else "training", labels={"n": str(i % 3)})
        for i in range(10)
    ]
    with open_store(store_url) as store:
        for snap in reversed(snaps):
            store.save(snap)
        listed = store.list_snapshots()
        assert [r.snapshot_id for r in listed] == [s.snapshot_id for s in reversed(snaps)]
        assert listed[0].package_count == 41 and listed[0].python_version == "3.11.7"
        assert listed[0].captured_at == snaps[-1].captured_at
        serving = store.list_snapshots(role="serving", labels={"n": "0"})
        assert [r.snapshot_id for r in serving] == [snaps[9].snapshot_id, snaps[3].snapshot_id]
        assert len(store.list_snapshots(limit=3)) == 3
        since = store.list_snapshots(since=T0 + timedelta(seconds=8))
        assert {r.snapshot_id for r in since} == {snaps[8].snapshot_id, snaps[9].snapshot_id}


def test_environment_groups_count_sightings_and_hosts(store_url: str) -> None:
    with open_store(store_url) as store:
        for i in range(6):
            store.save(make_snapshot(env=1, seq=i, host=f"h{i % 2}"))
        last = make_snapshot(env=2, seq=10, role="training")
        store.save(last)
        groups = {g.fingerprint: g for g in store.environment_groups()}
        assert len(groups) == 2
        one = groups[make_snapshot(env=1).fingerprint]
        assert (one.sightings, one.hosts) == (6, 2)
        assert one.first_seen == T0 and one.last_seen == T0 + timedelta(seconds=5)
        assert store.get(one.latest_snapshot_id).captured_at == one.last_seen
        assert store.environment_groups()[0].latest_snapshot_id == last.snapshot_id
        assert [g.sightings for g in store.environment_groups(role="training")] == [1]
        assert store.get_environment(last.fingerprint[:8]) == last
        with pytest.raises(BadInput, match="matches no stored environment"):
            store.get_environment("0" * 64)


def test_schema_info_counts_rows(store_url: str) -> None:
    with open_store(store_url) as store:
        store.save(make_snapshot())
        info = store.schema_info()
    assert (info.state, info.sightings, info.environments, info.tags) == ("current", 1, 1, 0)


def test_an_unreachable_server_fails_within_the_connect_timeout() -> None:
    import time

    from envparity.errors import StoreError

    start = time.monotonic()
    # A non-routable address: without a connect timeout libpq would wait for minutes.
    with pytest.raises(StoreError, match=r"\*\*\*@10\.255\.255\.1") as caught:
        open_store("postgresql+psycopg://u:pw0rd@10.255.255.1:5432/x", connect_timeout_s=1)
    assert time.monotonic() - start < 10
    assert "pw0rd" not in str(caught.value)


@pytest.fixture(scope="module")
def prop_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for every example (each saves a new snapshot id)."""
    return f"sqlite:///{tmp_path_factory.mktemp('prop') / 'store.db'}"


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    role=_text,
    labels=st.dictionaries(st.text(min_size=1, max_size=8), _text, max_size=3),
    packages=st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
            st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}(\+[a-z0-9]{1,5})?", fullmatch=True),
            st.one_of(st.none(), st.sampled_from(["/a", "/b/site-packages"])),
        ),
        max_size=6,
        unique_by=lambda p: p[0],
    ),
    host=st.one_of(st.none(), _text),
    numerics=st.booleans(),
)
def test_property_round_trip(
    prop_store_url: str,
    role: str,
    labels: dict,
    packages: list,
    host: object,
    numerics: bool,
) -> None:
    from envparity.model import Package

    base = make_snapshot(role=role, labels=labels, host="h")
    snap = base.model_copy(
        update={
            "packages": [Package(name=n, version=v, location=loc) for n, v, loc in packages],
            "platform": base.platform.model_copy(update={"hostname": host}),
            "numerics": base.numerics if numerics else None,
        }
    ).with_fingerprint()
    with open_store(prop_store_url) as store:
        assert store.save(snap)
        assert store.get(snap.snapshot_id) == snap
