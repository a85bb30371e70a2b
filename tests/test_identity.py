"""Identity: the instance-only fields, and the data path agreeing with the model path."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path
from typing import Any, Dict, Set

from pydantic import BaseModel

from envparity.collect.capture import collect_data, to_snapshot
from envparity.drift.engine import findings
from envparity.identity import INSTANCE_FIELDS, fingerprint_data, rules_changed
from envparity.model import Snapshot, fingerprint


def _models_in(annotation: Any):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ""
        return
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        for model, suffix in _models_in(arg):
            yield model, ("[]" + suffix if origin in (list, typing.List) else suffix)


def _instance_paths(model: type, path: str, found: Dict[str, Set[str]]) -> None:
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("instance"):
            found.setdefault(path, set()).add(name)
            continue
        for sub, suffix in _models_in(field.annotation):
            _instance_paths(sub, f"{path}.{name}{suffix}" if path else f"{name}{suffix}", found)


def test_instance_fields_match_the_model_markers():
    found: Dict[str, Set[str]] = {}
    _instance_paths(Snapshot, "", found)
    assert found == {k: set(v) for k, v in INSTANCE_FIELDS.items()}


def test_data_path_is_complete_and_agrees_with_the_model():
    data = collect_data(role="ci", labels={"a": "b"})
    snap = to_snapshot(data)
    dumped = snap.model_dump(mode="json")
    # Every field the model has, the data path wrote, with the same value.
    assert {k: v for k, v in dumped.items() if k != "captured_at"} == {
        k: v for k, v in data.items() if k != "captured_at"
    }
    assert snap.captured_at.isoformat().replace("+00:00", "Z") == data["captured_at"]
    assert fingerprint(snap) == data["fingerprint"] == snap.fingerprint


def test_empty_values_written_or_left_out_give_one_fingerprint():
    data = collect_data()
    sparse = Snapshot.model_validate(data).model_dump(mode="json", exclude_none=True)
    assert sparse != Snapshot.model_validate(data).model_dump(mode="json")
    assert fingerprint_data(sparse) == data["fingerprint"]


# --- schema 3: content identity, rules by the snapshot's own schema_version ----------------------

DATA = Path(__file__).parent / "collect" / "data"


def _load(name: str) -> Dict[str, Any]:
    return json.loads((DATA / name).read_text())


def test_a_version_2_snapshot_keeps_its_fingerprint():
    # Captured by the schema-2 envparity (0.1, before content identity) from a venv with six.
    old = _load("identity-six-v2.json")
    assert old["schema_version"] == 2
    assert fingerprint_data(old) == old["fingerprint"]
    assert fingerprint(Snapshot.model_validate(old)) == old["fingerprint"]
    # Its rules still count the installer: another installer is another environment there.
    other = copy.deepcopy(old)
    _pkg(other, "six")["installer"] = "uv"
    assert fingerprint_data(other) != old["fingerprint"]


def test_version_3_identity_is_content_not_installer_or_archive_url():
    new = _load("identity-six-v3.json")
    six = _pkg(new, "six")
    assert six["content"] and six["installer"] == "pip"
    moved = copy.deepcopy(new)
    _pkg(moved, "six").update(installer="uv", url="file:///wheels/six-1.16.0-py2.py3-none-any.whl")
    assert fingerprint_data(moved) == fingerprint_data(new)
    edited = copy.deepcopy(new)
    _pkg(edited, "six")["content"] = "0" * 64
    assert fingerprint_data(edited) != fingerprint_data(new)


def test_without_record_or_when_editable_the_origin_stays_identity():
    new = _load("identity-six-v3.json")
    bare = copy.deepcopy(new)
    _pkg(bare, "six")["content"] = None  # no RECORD: today's fields are all there is
    other = copy.deepcopy(bare)
    _pkg(other, "six")["installer"] = "conda"
    assert fingerprint_data(other) != fingerprint_data(bare)
    editable = copy.deepcopy(new)
    _pkg(editable, "six").update(editable=True, url="file:///src/six")
    elsewhere = copy.deepcopy(editable)
    _pkg(elsewhere, "six")["url"] = "file:///other/checkout/six"
    assert fingerprint_data(elsewhere) != fingerprint_data(editable)


def test_version_2_and_3_of_one_environment_compare_field_by_field():
    old, new = _load("identity-six-v2.json"), _load("identity-six-v3.json")
    assert old["fingerprint"] != new["fingerprint"]  # fingerprints change once, at the upgrade
    items, _ = findings(old, new)
    assert items == []
    assert rules_changed(old, new) and rules_changed(new, old)
    # A real change is drift, not the upgrade.
    upgraded = copy.deepcopy(new)
    _pkg(upgraded, "six")["version"] = "1.17.0"
    assert not rules_changed(old, upgraded)
    # Same schema on both sides: a new fingerprint is never the rules' doing.
    assert not rules_changed(new, copy.deepcopy(new))


def test_accelerator_facts_are_not_identity():
    # Read only where a framework was imported (in-process with torch loaded, not via the CLI).
    new = _load("identity-six-v3.json")
    loaded = copy.deepcopy(new)
    loaded["accelerator"] = {"source": "torch", "cuda_runtime": None, "cudnn": None, "nccl": None}
    assert fingerprint_data(loaded) == fingerprint_data(new)


def _pkg(data: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(p for p in data["packages"] if p["name"] == name)


def test_fleet_shows_an_upgraded_environment_once_with_its_old_fingerprint(tmp_path):
    # One venv seen before and after the envparity upgrade: one environment, not two (and not
    # one "drifted" from the other).
    from envparity.fleet import fleet_view
    from envparity.report.fleet import render_fleet
    from envparity.store import open_store

    old, new = _load("identity-six-v2.json"), _load("identity-six-v3.json")
    other = copy.deepcopy(new)
    _pkg(other, "six")["version"] = "1.17.0"  # a real change stays its own environment
    other["snapshot_id"], other["fingerprint"] = "c" * 32, fingerprint_data(other)
    for data in (old, new, other):
        data["role"] = "serving"
    with open_store(f"sqlite:///{tmp_path / 'fleet.db'}") as store:
        for data in (old, new, other):
            store.save(Snapshot.model_validate(data))
        view = fleet_view(store, role="serving")
    by_fp = {g.fingerprint: g for g in view.groups}
    assert set(by_fp) == {new["fingerprint"], other["fingerprint"]}
    assert by_fp[new["fingerprint"]].previous_fingerprints == [old["fingerprint"]]
    assert by_fp[new["fingerprint"]].sightings == 2
    assert by_fp[other["fingerprint"]].previous_fingerprints == []
    assert view.environments == 2
    assert f"was {old['fingerprint'][:12]} before the schema upgrade" in render_fleet(view, "text")
