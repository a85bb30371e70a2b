"""The HTML reports in a real browser: headless Chromium lays the pages out and a measuring script
reads the DOM. No package name wraps inside itself, the summary comes before the first table, the
fleet page's names hold on one line too, and the standalone chart opens as SVG.

The pages forbid scripts (their Content-Security-Policy); the test copies each page and lets one
inline measuring script in, the markup otherwise as envparity wrote it. Skipped, with the reason,
where no Chromium is installed (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest
from typer.testing import CliRunner

from envparity.cli import app
from envparity.model import (
    BenchmarkResult,
    BenchmarkRun,
    Collection,
    Package,
    PythonInfo,
    Snapshot,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
# Long names with hyphens: the ones a browser may break at "-" or anywhere under break-all.
NAMES = ("scikit-learn", "nvidia-cudnn-cu12", "opentelemetry-instrumentation-asgi",
         "tensorflow-io-gcs-filesystem", "torch")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium binary on PATH (CI installs Debian's chromium): DOM checks skipped")


# Runs after layout: each name element's line boxes (1 = on one line), and where the summary and
# the first table are. Written into the DOM, which --dump-dom prints.
MEASURE = """<script>
window.addEventListener('load', () => {
  const out = {names: [], summaryTop: null, firstTableTop: null, summaryBeforeTable: null};
  for (const el of document.querySelectorAll('.name code, code.name, span.name, td.name')) {
    const rects = Array.from(el.getClientRects());
    const tops = new Set(rects.map(r => Math.round(r.top)));
    out.names.push({text: el.textContent, lines: tops.size, rects: rects.length});
  }
  const summary = document.querySelector('section.summary');
  const table = document.querySelector('table');
  if (summary && table) {
    out.summaryTop = summary.getBoundingClientRect().top;
    out.firstTableTop = table.getBoundingClientRect().top;
    out.summaryBeforeTable = !!(summary.compareDocumentPosition(table)
                                & Node.DOCUMENT_POSITION_FOLLOWING);
  }
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _measure(page: Path, tmp_path: Path, width: int) -> Dict:
    html = page.read_text()
    # Let the one measuring script run; everything else stays as envparity wrote it.
    html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    html = html.replace("</body>", MEASURE + "</body>")
    probe = tmp_path / f"measure-{page.name}"
    probe.write_text(html)
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},1600",
         "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no measurement in the DOM; chromium said: {done.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _snap(sid: str, packages: Dict[str, str], *, role: str = "serving",
          labels: Dict[str, str] = None, seconds: float = 0.0,
          at: datetime = NOW) -> Snapshot:
    bench = None
    if seconds:
        bench = BenchmarkRun(suite="quick", processes=6, wall_seconds=1.0, results=[
            BenchmarkResult(name="py_loop", loops=100,
                            samples=[[seconds * (1 + 0.01 * p)] * 6 for p in range(6)])])
    return Snapshot(
        snapshot_id=sid, captured_at=at, role=role, labels=labels or {},
        packages=[Package(name=n, version=v) for n, v in packages.items()],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"), benchmarks=bench,
    ).with_fingerprint()


def _one_line(measured: Dict, expected: List[str]) -> None:
    shown = {m["text"] for m in measured["names"]}
    for name in expected:
        assert any(name in text for text in shown), (name, sorted(shown))
    broken = [m for m in measured["names"] if m["lines"] != 1]
    assert not broken, f"names laid out over more than one line: {broken}"


@pytest.fixture
def drift_html(tmp_path: Path) -> Path:
    old = dict.fromkeys(NAMES, "1.0.0")
    new = dict.fromkeys(NAMES, "2.0.0")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_snap("a" * 32, old, seconds=1e-6).model_dump_json())
    b.write_text(_snap("b" * 32, new, seconds=2e-6).model_dump_json())
    out = tmp_path / "report.html"
    done = CliRunner().invoke(app, ["diff", str(a), str(b), "-f", "html", "-o", str(out)])
    assert done.exit_code == 1, done.output
    return out


@pytest.mark.parametrize("width", [1280, 480])
def test_drift_html_names_never_wrap_and_the_summary_comes_first(drift_html, tmp_path, width):
    measured = _measure(drift_html, tmp_path, width)
    _one_line(measured, list(NAMES))
    assert measured["summaryBeforeTable"] is True
    assert measured["summaryTop"] < measured["firstTableTop"]


def test_standalone_chart_opens_as_svg(drift_html, tmp_path):
    chart = drift_html.with_name("report.chart.svg")
    root = ET.parse(chart).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Opened on its own, the browser builds an SVG document (with the namespace; without it,
    # the file shows as an XML tree).
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", chart.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert re.search(r'<svg xmlns="http://www.w3.org/2000/svg"', done.stdout), done.stderr[-2000:]
    assert "<circle" in done.stdout and "py_loop" in done.stdout


def test_fleet_html_names_never_wrap(tmp_path):
    from envparity.store import open_store

    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    base = dict.fromkeys(NAMES, "1.0.0")
    with open_store(url) as store:
        store.save(_snap("1" * 32, base, labels={"model": "fraud-detection-v2"},
                         at=NOW - timedelta(days=1)))
        store.save(_snap("2" * 32, dict.fromkeys(NAMES, "2.0.0"),
                         labels={"model": "fraud-detection-v2", "team": "risk-platform"}))
    baseline = tmp_path / "train.json"
    baseline.write_text(_snap("9" * 32, base, role="training").model_dump_json())
    page = tmp_path / "fleet.html"
    done = CliRunner().invoke(app, ["fleet", "--db", url, "--baseline", str(baseline),
                                    "-f", "html", "-o", str(page)])
    assert done.exit_code == 0, done.output
    # Open the drift details so their name cells are laid out too.
    page.write_text(page.read_text().replace("<details>", "<details open>"))
    measured = _measure(page, tmp_path, 900)
    _one_line(measured, ["model=fraud-detection-v2", "team=risk-platform", "serving",
                         *(f"package:{n}" for n in NAMES)])


def test_no_soft_break_hints_in_either_page(drift_html, tmp_path):
    # A <wbr> or a soft hyphen would let a browser break a name whatever the CSS says.
    page = drift_html.read_text()
    assert "<wbr" not in page and "\u00ad" not in page and "&shy;" not in page
    assert "word-break:break-all" not in page
