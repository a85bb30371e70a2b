"""Identity: the instance-only fields, and the data path agreeing with the model path."""

from __future__ import annotations

import typing
from typing import Any, Dict, Set

from pydantic import BaseModel

from envparity.collect.capture import collect_data, to_snapshot
from envparity.identity import INSTANCE_FIELDS, fingerprint_data
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
