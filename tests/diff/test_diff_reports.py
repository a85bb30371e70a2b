"""Renderers: golden outputs for a fixed report, and escaping that holds for hostile values.

Regenerate the golden files after an intended change with
``ENVPARITY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/diff/test_diff_reports.py`` and
review the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from diff_snapshots import baseline, changed, with_package

from envparity.comparison import compare as diff
from envparity.errors import BadInput
from envparity.model import BenchmarkComparison, DriftReport
from envparity.policy import Policy
from envparity.report import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {
    "text": "txt",
    "json": "json",
    "markdown": "md",
    "junit": "xml",
    "html": "html",
    "github": "github.txt",
}
HOSTILE = '<script>alert("x")</script> | `tick` & ]]> \x1b[31mred\r\n'


def fixed_report(fail_on: str = "error") -> DriftReport:
    base = baseline()
    cand = with_package(with_package(base, "numpy", "2.0.0"), "torch", "2.3.1+cu121")
    cand = with_package(cand, "requests", "2.31.0")
    cand = changed(cand, "platform.timezone", "Europe/Berlin")
    cand = changed(cand, "platform.hostname", "serving-7")
    cand = changed(cand, "snapshot_id", "c" * 32)
    cand = changed(cand, "role", "serving")
    cand = changed(cand, "determinism.env", {"OMP_NUM_THREADS": "8"})
    cand = changed(cand, "env", dict(base.env, TF_NOTE=HOSTILE))
    report = diff(
        base, cand, Policy(fail_on=fail_on), baseline_ref="fraud-train", candidate_ref="b.json"
    )
    slower = BenchmarkComparison(
        name="numpy.gemm.float64",
        verdict="slower",
        ratio=1.31,
        ci_low=1.2,
        ci_high=1.45,
        p_value=0.001,
        baseline_median_s=0.010,
        candidate_median_s=0.0131,
        why="1.31x slower (99% CI 1.20-1.45)",
    )
    return report.model_copy(update={"benchmarks": [slower]})


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt):
    text = render(fixed_report(), fmt)
    path = GOLDEN / f"report.{SUFFIX[fmt]}"
    if os.environ.get("ENVPARITY_UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    with open(path, encoding="utf-8", newline="") as f:
        assert text == f.read(), f"{path} differs from the renderer's output"


def test_text_and_markdown_lead_with_the_verdict():
    report = fixed_report()
    assert render(report, "text").splitlines()[0] == (
        "envparity: drift ERROR: 2 errors, 2 warnings, 2 info (fail-on error: FAIL)"
    )
    assert render(report, "markdown").startswith("**envparity: drift error** — 2 errors, ")


@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_are_escaped(fmt):
    report = fixed_report()
    if fmt == "github":  # info findings are folded into one notice: make the hostile one a warning
        report = report.model_copy(
            update={
                "findings": [
                    f.model_copy(update={"severity": "warning"}) if f.key == "TF_NOTE" else f
                    for f in report.findings
                ]
            }
        )
    text = render(report, fmt)
    assert "\x1b" not in text and "\r" not in text
    # JSON keeps the value exactly (escaped by JSON itself); the others show \x1b.
    visible = {"json": "\\u001b[31mred", "markdown": "&#92;x1b&#91;31mred"}
    assert visible.get(fmt, "\\x1b[31mred") in text


def test_json_round_trips_and_is_stable():
    report = fixed_report()
    text = render(report, "json")
    assert DriftReport.model_validate_json(text) == report
    assert text == render(DriftReport.model_validate_json(text), "json")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert {"baseline", "candidate", "verdict", "findings", "benchmarks"} <= set(data)


@pytest.mark.parametrize(
    ("fail_on", "failures"), [("error", 2), ("warning", 4), ("info", 6), ("never", 0)]
)
def test_junit_failures_are_findings_at_or_above_fail_on(fail_on, failures):
    report = fixed_report(fail_on)
    root = ET.fromstring(render(report, "junit").encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.findings)
    assert len(root.findall("./testsuite/testcase/failure")) == failures
    assert root.find("testsuite").get("failures") == str(failures)
    (note,) = [c for c in cases if c.get("name") == "TF_NOTE"]
    # Escaped on the way out, so the parser gives the value back; the ESC character, which XML
    # cannot hold at all, is written as \x1b.
    assert '<script>alert("x")</script> | `tick` & ]]> \\x1b[31mred' in ET.tostring(
        note, encoding="unicode", method="text"
    )


def test_junit_with_no_findings_has_one_passing_case():
    base = baseline()
    root = ET.fromstring(render(diff(base, base), "junit").encode())
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("name"), list(c)) for c in cases] == [("no drift", [])]


def test_html_is_self_contained_and_escaped():
    page = render(fixed_report(), "html")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # Links only within the page (the summary's links to the findings' rows).
    assert not re.search(r"src\s*=|href\s*=\s*\"(?!#)|https?://|@import|url\(", page)
    assert re.search(r'href="#finding-1"', page)


def test_markdown_values_cannot_break_the_table():
    md = render(fixed_report(), "markdown")
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert rows
    for row in rows:
        assert row.count("|") - row.count("\\|") == 6, row
    assert "<script>" not in md
    assert "&lt;script&gt;" in md


def test_unknown_format_is_bad_input():
    with pytest.raises(BadInput, match=r"--format 'xml': unknown format; choose one of text, "):
        render(fixed_report(), "xml")


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_every_readable_format_shows_the_benchmark_conditions(fmt):
    report = fixed_report()
    (slower,) = report.benchmarks
    with_conditions = slower.model_copy(
        update={
            "baseline_conditions": "load 0.4 -> 0.5; others held 2% of the CPUs",
            "candidate_conditions": "load 3.1; others held 41% of the CPUs, contended",
        }
    )
    text = render(report.model_copy(update={"benchmarks": [with_conditions]}), fmt)
    assert "others held 2% of the CPUs" in text
    assert "others held 41% of the CPUs, contended" in text
    if fmt in ("text", "markdown"):  # without recorded conditions they say nothing of them
        assert "ran under" not in render(report, fmt)


def test_an_unstable_benchmark_names_its_real_cause():
    from envparity.report.interface import benchmark_line

    contended = BenchmarkComparison(
        name="numpy_gemm_f32",
        verdict="unstable",
        ratio=1.05,
        ci_low=1.02,
        ci_high=1.09,
        contended_sides=["baseline", "candidate"],
        why="ratio 1.05 (99% CI 1.02-1.09) but the baseline and the candidate ran under "
        "contention (other processes held its CPUs), which alone can make a difference",
    )
    line = benchmark_line(contended)
    assert "ran under contention" in line and "processes disagree" not in line
    spread = contended.model_copy(
        update={"contended_sides": [], "why": "ratio 1.40 but processes disagree (spread 30%)"}
    )
    assert "processes disagree (spread 30%)" in benchmark_line(spread)
