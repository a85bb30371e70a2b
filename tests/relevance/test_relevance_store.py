"""The relevance record is instance data: out of the fingerprint, kept by the store."""

from __future__ import annotations

from datetime import datetime, timezone

from envparity.model import Collection, ModelArtifact, Package, PythonInfo, Relevance, Snapshot
from envparity.store import open_store


def baseline() -> Snapshot:
    return Snapshot(
        snapshot_id="b" * 32,
        captured_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
        packages=[Package(name="numpy", version="1.26.4")],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    )


def _with_relevance():
    rel = Relevance(
        loaded=["numpy"],
        dependencies={"scipy": "required by numpy"},
        models=[ModelArtifact(path="m.pkl", kind="pickle", needs={"numpy": "numpy.dtype"})],
    )
    return baseline().model_copy(update={"relevance": rel}).with_fingerprint()


def test_relevance_never_changes_the_fingerprint():
    assert _with_relevance().fingerprint == baseline().with_fingerprint().fingerprint


def test_the_store_keeps_the_relevance_record(tmp_path):
    snap = _with_relevance()
    with open_store(f"sqlite:///{tmp_path}/e.db") as store:
        store.save(snap)
        back = store.get(snap.snapshot_id)
    assert back.relevance == snap.relevance
