"""The HTML report's benchmark chart: inline SVG, coloured by verdict, conditions beside it."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from envparity.model import BenchmarkComparison, DriftReport, SnapshotSummary
from envparity.report.html import HtmlRenderer
from envparity.report.svg import COLOURS, render_chart

_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _side(ref: str) -> SnapshotSummary:
    return SnapshotSummary(ref=ref, snapshot_id=ref * 8, fingerprint="f" * 64, captured_at=_NOW)


def _comparisons() -> list:
    common = {
        "baseline_conditions": "load 0.3, others held 2% of the CPUs, 2 CPUs",
        "candidate_conditions": "load 5.9, others held 61% of the CPUs, CONTENDED <b>",
    }
    return [
        BenchmarkComparison(
            name="numpy_gemm_f32",
            verdict="slower",
            ratio=1.9,
            ci_low=1.7,
            ci_high=2.1,
            why="1.90x the baseline's time",
            memory_verdict="more",
            **common,
        ),
        BenchmarkComparison(
            name="py_loop", verdict="same", ratio=1.0, ci_low=0.98, ci_high=1.02, **common
        ),
        BenchmarkComparison(
            name="<script>alert(1)</script>",
            verdict="inconclusive",
            ratio=1.08,
            ci_low=1.03,
            ci_high=1.11,
            why="plausible range",
            **common,
        ),
        BenchmarkComparison(
            name="exp", verdict="faster", ratio=0.4, ci_low=0.35, ci_high=0.45, **common
        ),
        BenchmarkComparison(name="gone", verdict="missing", why="not run on the candidate"),
    ]


def _page() -> str:
    report = DriftReport(
        baseline=_side("a"),
        candidate=_side("b"),
        verdict="none",
        failed=False,
        benchmarks=_comparisons(),
    )
    return HtmlRenderer().render(report)


def test_chart_rows_whiskers_colours_and_escaping() -> None:
    svg = render_chart(_comparisons())
    assert svg.startswith("<svg") and "</svg>" in svg
    assert svg.count('<g class="row') == 4  # "missing" has no ratio: no row
    assert svg.count("<circle") == 4
    assert COLOURS["slower"] in svg and COLOURS["faster"] in svg and COLOURS["same"] in svg
    assert COLOURS["inconclusive"] in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "memory more" in svg
    assert "CONTENDED &lt;b&gt;" in svg and "load 0.3" in svg  # both sides' conditions
    assert render_chart([]) == ""


def test_html_report_embeds_the_chart_without_script_or_network() -> None:
    page = _page()
    assert '<svg class="bench-chart"' in page
    assert "<script" not in page.replace("&lt;script", "")
    assert "http" not in page.replace("http-equiv", "")  # no URL, not even a namespace


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium here (Debian: apt-get install chromium)")
    return ""


def _png_pixels(data: bytes) -> set:
    """The distinct RGB colours of an 8-bit RGB/RGBA PNG (no Pillow needed for a test)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = depth = kind = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and kind in (2, 6), (depth, kind)
    bpp = 3 if kind == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for row in range(height):
        start = row * (stride + 1)
        f, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        prev = line
        if row % 2 == 0:  # every other row is plenty to see what was drawn
            for i in range(0, stride, bpp * 2):
                colours.add(tuple(line[i : i + 3]))
    return colours


def test_chart_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    page.write_text(_page())
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,700",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), done.stderr[-2000:]
    present = _png_pixels(shot.read_bytes())
    assert len(present) > 20, "the screenshot is blank"
    # The verdict colours were drawn: the slower red and the faster green are on the page.
    for verdict in ("slower", "faster"):
        hex_ = COLOURS[verdict].lstrip("#")
        rgb = tuple(int(hex_[i : i + 2], 16) for i in (0, 2, 4))
        assert any(sum(abs(a - b) for a, b in zip(rgb, p)) < 30 for p in present), verdict


def test_standalone_chart_is_an_svg_file_with_its_namespace() -> None:
    import xml.etree.ElementTree as ET

    from envparity.report.svg import SVG_NS, standalone_chart

    text = standalone_chart(_comparisons())
    assert text is not None and standalone_chart([]) is None
    root = ET.fromstring(text.encode())  # well-formed XML, hostile names escaped
    assert root.tag == f"{{{SVG_NS}}}svg"
    names = [t.text for t in root.iter(f"{{{SVG_NS}}}text")]
    assert "<script>alert(1)</script>" in names and "numpy_gemm_f32" in names


def _bench_snapshot(path: Path, sid: str, seconds: float) -> Path:
    from envparity.bench.suite import SUITES
    from envparity.model import BenchmarkResult, BenchmarkRun, Collection, PythonInfo, Snapshot

    processes = SUITES["quick"].min_processes
    snap = Snapshot(
        snapshot_id=sid,
        captured_at=_NOW,
        python=PythonInfo(implementation="cpython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
        benchmarks=BenchmarkRun(
            suite="quick",
            processes=processes,
            wall_seconds=1.0,
            results=[
                BenchmarkResult(
                    name="py_loop",
                    loops=100,
                    samples=[[seconds * (1 + 0.01 * p)] * 6 for p in range(processes)],
                )
            ],
        ),
    )
    path.write_text(snap.model_dump_json())
    return path


def test_diff_html_writes_the_chart_beside_the_report(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from typer.testing import CliRunner

    from envparity.cli import app

    a = _bench_snapshot(tmp_path / "a.json", "a" * 32, 1e-6)
    b = _bench_snapshot(tmp_path / "b.json", "b" * 32, 2e-6)
    out = tmp_path / "report.html"
    done = CliRunner().invoke(app, ["diff", str(a), str(b), "-f", "html", "-o", str(out)])
    assert done.exit_code in (0, 1), done.output
    chart = tmp_path / "report.chart.svg"
    assert f"its benchmark chart also as {chart}" in done.output
    root = ET.parse(chart).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert any("py_loop" in (t.text or "") for t in root.iter())
    # The same chart is inline in the page (without the namespace: the page holds no URL).
    assert '<svg class="bench-chart"' in out.read_text()
    # No benchmarks, no chart file.
    import json

    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({**json.loads(a.read_text()), "benchmarks": None}))
    plain = tmp_path / "plain.html"
    CliRunner().invoke(app, ["diff", str(bare), str(bare), "-f", "html", "-o", str(plain)])
    assert plain.exists() and not (tmp_path / "plain.chart.svg").exists()
