"""pandas outputs keep their labels: the index, the column labels, their names and dtypes.

Recorded with real pandas in the pinned stacks (pandas 2.0.3 and 2.2.3) and compared here,
where pandas is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict

import pytest
from _stacks import stack_env

from envparity.parity.compare import compare_probe

RECORD = """
import json, sys
import pandas as pd
from envparity.bench.numerics import record

values = [0.1, 0.2, 0.3, 0.4, 0.5]
dates = pd.date_range("2024-01-01", periods=5, freq="D", name="day")
shifted = pd.date_range("2024-01-02", periods=5, freq="D", name="day")
outputs = {
    "series": pd.Series(values, index=dates, name="price"),
    "series_shifted": pd.Series(values, index=shifted, name="price"),
    "series_renamed_index": pd.Series(values, index=dates.rename("date"), name="price"),
    "frame": pd.DataFrame({"price": values}, index=dates),
    "frame_shifted": pd.DataFrame({"price": values}, index=shifted),
    "frame_int_labels": pd.DataFrame({0: values}, index=dates),
    "frame_str_labels": pd.DataFrame({"0": values}, index=dates),
    "plain": pd.DataFrame({"price": values}),
}
out = {k: record(k, lambda v=v: v).model_dump(mode="json") for k, v in outputs.items()}
json.dump(out, sys.stdout)
"""


def _records(python: Any, tmp_path: Any) -> Dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", RECORD], capture_output=True, text=True, cwd=tmp_path,
        env=stack_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "pandas" not in sys.modules  # compared here without pandas
    return json.loads(done.stdout)


@pytest.fixture(params=["np1", "np2"])
def records(request: pytest.FixtureRequest, tmp_path: Any) -> Dict[str, Any]:
    return _records(request.getfixturevalue(f"stack_{request.param}").python, tmp_path)


def test_the_same_values_under_shifted_dates_are_drift(records: Dict[str, Any]) -> None:
    for name in ("series", "frame"):
        pc = compare_probe(name, records[name], records[f"{name}_shifted"])
        assert pc.severity == "error", pc.why
        assert [c.name for c in pc.columns if c.failed] == ["[index]"], pc.why
        assert "2024-01-01" in pc.why or "1704067200" in pc.why, pc.why


def test_the_same_labels_and_values_are_identical(records: Dict[str, Any]) -> None:
    pc = compare_probe("series", records["series"], records["series"])
    assert pc.verdict == "identical" and pc.severity is None


def test_renamed_index_and_column_label_dtype_are_drift(records: Dict[str, Any]) -> None:
    pc = compare_probe("series", records["series"], records["series_renamed_index"])
    assert pc.severity == "error"
    assert "index names changed from ['day'] to ['date']" in pc.why
    pc = compare_probe("frame", records["frame_int_labels"], records["frame_str_labels"])
    assert pc.severity == "error"
    assert "column-label dtype changed from 'int64' to 'object'" in pc.why


def test_the_default_index_is_not_stored_as_a_column(records: Dict[str, Any]) -> None:
    from envparity.parity.encode import decode_text

    out = decode_text(records["plain"]["output"])
    assert [c.name for c in out.columns] == ["price"]
    assert out.labels is not None and out.labels["index_dtypes"] == ["int64"]
