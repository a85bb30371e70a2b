"""The committed JSON Schemas match the pydantic models (regenerate: scripts/gen_schemas.py)."""

from __future__ import annotations

import importlib.util

import pytest
from _support import REPO


def _generated() -> dict:
    spec = importlib.util.spec_from_file_location(
        "gen_schemas", REPO / "scripts" / "gen_schemas.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.schemas()


# snapshot.v1.json and v2.json stay committed as the records of schema versions 1 and 2 (still
# loaded).
@pytest.mark.parametrize("name", ["snapshot.v3.json", "drift-report.v1.json"])
def test_committed_schema_matches_model(name: str) -> None:
    committed = (REPO / "schemas" / name).read_text(encoding="utf-8")
    assert committed == _generated()[name], (
        f"schemas/{name} is stale: run `python scripts/gen_schemas.py` and commit it"
    )
