"""The generated shapes (envparity/_shapes*.py) match the pydantic models, and the stdlib check
they feed (envparity.shapecheck) takes every snapshot and report envparity makes and names the
field of data that is wrongly typed (regenerate: scripts/gen_shapes.py)."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest
from _support import REPO
from pydantic import ValidationError

from envparity.model import DriftReport, Finding, Snapshot
from envparity.shapecheck import check


def _script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_shapes_match_the_models() -> None:
    generated = _script("gen_shapes").modules()
    assert set(generated) == {
        "_shapes.py", "_shapes_snapshot.py", "_shapes_measures.py", "_shapes_report.py"
    }
    for name, text in generated.items():
        committed = (REPO / "envparity" / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"envparity/{name} is stale: run `python scripts/gen_shapes.py` and commit it"
        )
        assert text.count("\n") < 500  # tests/test_architecture.py's limit


def test_the_table_has_every_field_of_every_model_and_no_other() -> None:
    from envparity._shapes import SHAPES

    for root in (Snapshot, DriftReport):
        schema = root.model_json_schema()
        for name, sub in [(root.__name__, schema), *schema["$defs"].items()]:
            fields = SHAPES[name]
            assert list(fields) == list(sub["properties"]), name
            required = {f for f, spec in fields.items() if spec.startswith("!")}
            assert required == set(sub.get("required", [])), name


def _strict(model: Any, data: Any) -> Any:
    """pydantic's strict JSON mode: JSON types as they are, as the check takes them (lax mode
    would also convert "8" to an int or "no" to false)."""
    return model.model_validate_json(json.dumps(data), strict=True)


def _diff_snapshots() -> Any:
    spec = importlib.util.spec_from_file_location(
        "diff_snapshots_for_shapes", REPO / "tests" / "diff" / "diff_snapshots.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _suite_snapshot() -> Dict[str, Any]:
    data: Dict[str, Any] = _diff_snapshots().baseline().model_dump(mode="json")
    return data


def _live_snapshot() -> Dict[str, Any]:
    import envparity

    data: Dict[str, Any] = envparity.snapshot(role="training").model_dump(mode="json")
    return data


def _plain_capture() -> Dict[str, Any]:
    # What the start-up hook captures, stores and caches: plain data, no pydantic.
    from envparity.collect.capture import collect_data
    from envparity.collect.interface import Context

    data: Dict[str, Any] = collect_data(role="serving", ctx=Context(subprocess=False))
    return data


def _file(path: str) -> Callable[[], Dict[str, Any]]:
    def read() -> Dict[str, Any]:
        data: Dict[str, Any] = json.loads((REPO / path).read_text(encoding="utf-8"))
        return data

    return read


SNAPSHOTS: List[Tuple[str, Callable[[], Dict[str, Any]]]] = [
    ("tests/diff/diff_snapshots.py baseline()", _suite_snapshot),
    ("envparity.snapshot()", _live_snapshot),
    ("the hook's plain capture", _plain_capture),
    ("snapshot-v1.json", _file("tests/collect/data/snapshot-v1.json")),
    ("identity-six-v2.json", _file("tests/collect/data/identity-six-v2.json")),
    ("identity-six-v3.json", _file("tests/collect/data/identity-six-v3.json")),
]


@pytest.mark.parametrize("make", [m for _, m in SNAPSHOTS], ids=[n for n, _ in SNAPSHOTS])
def test_check_takes_every_snapshot_the_suite_makes(make: Callable[[], Dict[str, Any]]) -> None:
    data = make()
    assert check(data, "Snapshot") is None
    _strict(Snapshot, data)  # and pydantic agrees


def _engine_report() -> Dict[str, Any]:
    """A real report with package, python, waived and grouped findings."""
    from envparity.policy import Policy

    snaps = _diff_snapshots()
    base = snaps.baseline()
    cand = snaps.with_package(snaps.changed(base, "python.version", "3.12.1"), "numpy", "2.0.0")
    policy = Policy(waive=[{"key": "python:*", "reason": "the 3.12 move", "until": "2999-01-01"}])
    report = snaps.diff(base, cand, policy)
    assert any(f.waived for f in report.findings)
    data: Dict[str, Any] = report.model_dump(mode="json")
    return data


REPORTS: List[Tuple[str, Callable[[], Dict[str, Any]]]] = [
    ("tests/diff/golden/report.json", _file("tests/diff/golden/report.json")),
    ("a compare() report", _engine_report),
]


@pytest.mark.parametrize("make", [m for _, m in REPORTS], ids=[n for n, _ in REPORTS])
def test_check_takes_every_report(make: Callable[[], Dict[str, Any]]) -> None:
    data = make()
    assert data["findings"], "the report is not vacuous"
    assert check(data, "DriftReport") is None
    for finding in data["findings"]:
        assert check(finding, "Finding") is None
    _strict(DriftReport, data)


def _set(data: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    out = copy.deepcopy(data)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return out


_DELETE = object()

# (what is changed, its new value, the message) on the suite's baseline snapshot.
WRONG_SNAPSHOTS = [
    ("cpu.flags", "avx2", "cpu.flags: expected a list"),
    ("cpu.flags", ["avx2", 2], "cpu.flags[1]: expected a string"),
    ("cpu.logical_cores", "8", "cpu.logical_cores: expected an integer or null"),
    ("cpu.logical_cores", True, "cpu.logical_cores: expected an integer or null"),
    ("packages.0.version", 1.26, "packages[0].version: expected a string"),
    ("packages.0.editable", "no", "packages[0].editable: expected true or false"),
    ("python", _DELETE, "python: missing"),
    ("python.version", _DELETE, "python.version: missing"),
    ("python", "3.11", "python: expected an object"),
    ("gpus.state", "broken", 'gpus.state: expected "ok", "no_library", "no_gpu" or "error"'),
    ("gpus.devices", [{"name": 1}], "gpus.devices[0].name: expected a string"),
    ("determinism.env", {"TZ": 0}, "determinism.env.TZ: expected a string"),
    ("schema_version", 9, "schema_version: expected 1, 2 or 3"),
    ("schema_version", "3", "schema_version: expected 1, 2 or 3"),
    ("platform.tz_rules", [], "platform.tz_rules: expected an object or null"),
    ("collection.errors", [{"probe": "gpu"}], "collection.errors[0].message: missing"),
    ("labels", None, "labels: expected an object"),
    ("cpu.turbo", True, "cpu.turbo: unknown field"),
]


@pytest.mark.parametrize("path,value,message", WRONG_SNAPSHOTS, ids=[w[0] for w in WRONG_SNAPSHOTS])
def test_check_names_the_field_of_a_wrongly_typed_snapshot(
    path: str, value: Any, message: str
) -> None:
    data = _set(_suite_snapshot(), path, value)
    assert check(data, "Snapshot") == message
    with pytest.raises(ValidationError):  # what the check refuses, the model refuses too
        _strict(Snapshot, data)


FINDING = {
    "category": "package", "key": "numpy", "baseline": "1.26.4", "candidate": "2.0.0",
    "change": "changed", "severity": "error", "why": "a major version: pin it",
}
WRONG_FINDINGS = [
    ("severity", "fatal", 'severity: expected "info", "warning" or "error"'),
    ("baseline", ["1.26.4"], "baseline: expected true or false, an integer, a number, a string "
     "or null"),
    ("related", "env:TZ", "related: expected a list"),
    ("members", [{"key": "numpy", "severity": 3}],
     'members[0].severity: expected "info", "warning" or "error"'),
    ("waived", {"key": "package:numpy", "rule": "package:*"}, "waived.reason: missing"),
    ("why", _DELETE, "why: missing"),
]


@pytest.mark.parametrize("field,value,message", WRONG_FINDINGS, ids=[w[0] for w in WRONG_FINDINGS])
def test_check_names_the_field_of_a_wrongly_typed_finding(
    field: str, value: Any, message: str
) -> None:
    assert check(FINDING, "Finding") is None
    _strict(Finding, FINDING)
    data = _set(FINDING, field, value)
    assert check(data, "Finding") == message
    with pytest.raises(ValidationError):
        _strict(Finding, data)


def test_check_never_raises_on_data_that_is_not_a_snapshot() -> None:
    for data in (None, [], "snapshot", 3, {"python": {"implementation": None}}, {1: 2}):
        why = check(data, "Snapshot")
        assert isinstance(why, str) and why


def test_an_integral_float_is_an_integer_as_in_json_schema() -> None:
    data = _set(_suite_snapshot(), "cpu.logical_cores", 8.0)
    assert check(data, "Snapshot") is None
    assert Snapshot.model_validate(data).cpu.logical_cores == 8


def test_gen_shapes_check_mode_passes_on_the_committed_modules(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_shapes.py"), "--check"],
        capture_output=True, text=True, cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
