"""Golden outputs of the bisect report in each format.

Regenerate after an intended change with
``ENVPARITY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/bisect/test_bisect_golden.py`` and
review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envparity.bisect.model import BisectReport, CauseSet, DifferenceRow, SymptomReport, TrialRow
from envparity.bisect.render import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {"text": "txt", "json": "json", "markdown": "md"}


def fixed_report() -> BisectReport:
    return BisectReport(
        baseline="fraud-train",
        baseline_id="a" * 32,
        candidate="/srv/venv/bin/python",
        outcome="cause_found",
        symptoms=[
            SymptomReport(
                name="nep50", kind="probe", status="explained",
                before="output float32[3] in the baseline, float64[3] here",
                causes=[CauseSet(keys=["numpy"], interaction=False,
                                 restored_with=["scipy"], after="identical output")],
                not_needed=["TZ", "pandas"],
            ),
            SymptomReport(
                name="either", kind="probe", status="explained",
                before="largest relative difference 0.5 > rtol 1e-06",
                causes=[CauseSet(keys=["TZ", "tinypkg"], interaction=True,
                                 after="identical output")],
                not_needed=["numpy", "pandas", "scipy"],
            ),
            SymptomReport(
                name="numpy_gemm_f32", kind="benchmark", status="explained",
                before="slower: 1.85x the baseline's time", ratio_before=1.85,
                causes=[CauseSet(keys=["OPENBLAS_NUM_THREADS"], interaction=False,
                                 after="same: 1.01x", ratio_after=1.01),
                        CauseSet(keys=["OMP_NUM_THREADS"], interaction=False,
                                 after="same: 0.99x", ratio_after=0.99)],
            ),
            SymptomReport(
                name="hashes", kind="probe", status="unexplained",
                before="largest relative difference 1 > rtol 1e-06",
                untestable=["python:version", "cpu:model"],
                note="restoring every testable difference leaves the symptom",
            ),
        ],
        differences=[
            DifferenceRow(key="numpy", category="package", kind="overlay", baseline="1.26.4",
                          candidate="2.2.6", reason="baseline version installed into an overlay"),
            DifferenceRow(key="TZ", category="env", kind="env", baseline="UTC",
                          candidate="Asia/Tokyo", reason="set in the child's environment",
                          related=["platform:timezone"]),
            DifferenceRow(key="extra", category="package", kind="hide", candidate="1.0",
                          reason="absent in the baseline: hidden from the child"),
            DifferenceRow(key="version", category="python", kind="untestable",
                          baseline="3.11.7", candidate="3.12.1",
                          reason="the Python interpreter"),
        ],
        trials=[
            TrialRow(index=1, restored=[], seconds=0.21, status="ok",
                     outcomes={"nep50": "present"}),
            TrialRow(index=2, restored=["numpy"], with_dependents=["scipy"], seconds=1.4,
                     status="ok", outcomes={"nep50": "gone"},
                     detail="overlay could not import (probe nep50: ValueError: numpy.dtype "
                     "size changed); retried with its dependents restored together: "
                     "scipy==1.11.4"),
            TrialRow(index=3, restored=["TZ"], seconds=30.0, status="timeout",
                     outcomes={"nep50": "unresolved"},
                     detail="killed after 30 s, its share of the remaining budget"),
        ],
        wall_seconds=12.5,
        budget_seconds=600,
        max_trials=64,
        notes=["benchmarks interleaved with the baseline's interpreter /srv/base/bin/python"],
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str) -> None:
    text = render(fixed_report(), fmt)
    path = GOLDEN / f"report.{SUFFIX[fmt]}"
    if os.environ.get("ENVPARITY_UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    with open(path, encoding="utf-8", newline="") as f:
        assert text == f.read(), f"{path} differs from the renderer's output"
