"""``fleet``'s comparisons: from each environment's identity, cached by (baseline snapshot,
fingerprint, envparity version), the policy applied on read; a sighting that adds measured values
or probe errors compared in full. Whatever the path, a group's drift is what ``diff`` says for its
newest sighting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

from store_fixtures import make_snapshot

from envparity.comparison import compare as diff
from envparity.fleet import fleet_view
from envparity.model import ProbeFailure
from envparity.policy import Policy
from envparity.store import open_store


def _plain(env: int, seq: int = 0, **kw: object):  # type: ignore[no-untyped-def]
    """A sighting with no numerics or benchmarks: its identity is the whole comparison."""
    snap = make_snapshot(env=env, seq=seq, **kw)  # type: ignore[arg-type]
    return snap.model_copy(update={"numerics": None, "benchmarks": None})


def _by_fp(view) -> Dict[str, object]:  # type: ignore[no-untyped-def]
    return {g.fingerprint: g for g in view.groups}


def test_cached_identity_findings_give_what_diff_gives(store_url: str, tmp_path: Path) -> None:
    environ = {"ENVPARITY_HOME": str(tmp_path / "home")}
    baseline = _plain(0, role="training")
    others = [_plain(i, i, packages=30 + i) for i in range(1, 5)]
    measured = make_snapshot(env=8, seq=10)  # numerics and benchmarks: compared in full
    broken = _plain(9, 20)
    broken = broken.model_copy(
        update={
            "collection": broken.collection.model_copy(
                update={"errors": [ProbeFailure(probe="packages", message="boom")]}
            )
        }
    )
    with open_store(store_url) as store:
        for snap in [baseline, *others, measured, broken]:
            store.save(snap)
        strict = Policy(fail_on="info")
        lenient = Policy(ignore=["package:*"], fail_on="warning")
        for policy in (strict, lenient, strict):  # cold, then warm with another policy
            view = fleet_view(store, baseline, policy=policy, environ=environ)
            groups = _by_fp(view)
            for snap in [*others, measured, broken]:
                want = diff(baseline, store.get(snap.snapshot_id), policy)
                got = groups[snap.fingerprint]
                assert (got.verdict, got.failed, got.counts) == (  # type: ignore[attr-defined]
                    want.verdict,
                    want.failed,
                    want.counts,
                ), snap.fingerprint
            assert groups[baseline.fingerprint].verdict == "none"  # type: ignore[attr-defined]
    cached = list((tmp_path / "home" / "findings").iterdir())
    assert len(cached) == 1  # one file per baseline and envparity version
    text = cached[0].read_text()
    assert all(snap.fingerprint in text for snap in others)
    # Probe errors or measured values: compared in full, never from the cache.
    assert broken.fingerprint not in text and measured.fingerprint not in text


def test_an_unreadable_cache_costs_the_comparison_not_the_view(
    store_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    environ = {"ENVPARITY_HOME": str(home)}
    baseline, other = _plain(0), _plain(1, 1)
    with open_store(store_url) as store:
        store.save(baseline)
        store.save(other)
        first = fleet_view(store, baseline, environ=environ)
        (cached,) = (home / "findings").iterdir()
        cached.write_text("{not json")
        again = fleet_view(store, baseline, environ=environ)
        assert again == first
        os.chmod(home / "findings", 0o500)
        try:
            (cached,) = (home / "findings").iterdir()
            cached.chmod(0o000)
            assert fleet_view(store, baseline, environ=environ) == first
        finally:
            os.chmod(home / "findings", 0o700)
