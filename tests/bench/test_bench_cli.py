"""`envparity bench` and `envparity snapshot --bench` from the command line."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from _support import run_cli
from typer.testing import CliRunner

from envparity.bench.suite import SUITES
from envparity.cli import app
from envparity.model import (
    BenchmarkResult,
    BenchmarkRun,
    Collection,
    NumericResult,
    PythonInfo,
    Snapshot,
)

runner = CliRunner()


def _baseline(path: Path, *, benchmarks: bool = True) -> Path:
    """A snapshot whose py_loop took a microsecond-fraction and whose py_sum probe differs."""
    snap = Snapshot(
        snapshot_id="b" * 32,
        captured_at=datetime.now(timezone.utc),
        python=PythonInfo(implementation="cpython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
        benchmarks=BenchmarkRun(
            suite="quick",
            # As many processes as a quick run has at least: a permutation test over fewer
            # cannot reach 99% whatever the ratio.
            processes=SUITES["quick"].min_processes,
            wall_seconds=1.0,
            results=[
                BenchmarkResult(
                    name="py_loop",
                    loops=100,
                    samples=[
                        [1e-9 * (1 + 0.01 * p)] * 6 for p in range(SUITES["quick"].min_processes)
                    ],
                )
            ],
        )
        if benchmarks
        else None,
        numerics=[
            NumericResult(name="py_sum", dtype="float64", sha256="0" * 64, values=[-14.0])
        ]
        if benchmarks
        else None,
    )
    path.write_text(snap.model_dump_json())
    return path


def test_bench_quick_json_end_to_end_with_compare(tmp_path: Path, envparity_home: Path) -> None:
    base = _baseline(tmp_path / "base.json")
    result = runner.invoke(app, ["bench", "--suite", "quick", "--json", "--compare", str(base)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    run = BenchmarkRun.model_validate(doc["benchmarks"])
    quick = SUITES["quick"]
    assert run.suite == "quick" and quick.min_processes <= run.processes <= quick.processes
    got = {r.name: r for r in run.results}
    assert got["py_loop"].status == "ok" and len(got["py_loop"].samples) == run.processes
    assert all(len(s) == quick.rounds for s in got["py_loop"].samples)
    assert got["numpy_gemm_f32"].status == "ok"
    assert got["torch_cuda_matmul"].status in ("ok", "skipped")
    assert {n["name"] for n in doc["numerics"]} >= {"py_sum", "numpy_exp_f64", "numpy_solve_f64"}
    comparisons = {c["name"]: c for c in doc["comparisons"]}
    # Slower than a loop of a nanosecond, unless this run was contended (a busy CI runner):
    # then contention could explain "slower", and the verdict says so instead of calling it.
    assert run.conditions is not None
    if run.conditions.contended:
        assert comparisons["py_loop"]["verdict"] == "unstable"
        assert comparisons["py_loop"]["contended_sides"] == ["candidate"]
        assert "contention" in comparisons["py_loop"]["why"]
    else:
        assert comparisons["py_loop"]["verdict"] == "slower", comparisons["py_loop"]
    assert comparisons["numpy_gemm_f32"]["verdict"] == "missing"
    (finding,) = [f for f in doc["numeric_findings"] if f["key"] == "py_sum"]
    assert finding["severity"] == "error" and "py_sum" in finding["why"]


def test_bench_bad_input_is_one_line_and_exit_2(tmp_path: Path, envparity_home: Path) -> None:
    cases = [
        (["bench", "--suite", "huge"], "'--suite': 'huge' is not one of 'quick', 'full'"),
        (["bench", "--bench-callable", "nocolon"], "expected module:function"),
        (["bench", "--compare", str(tmp_path / "gone.json")], "gone.json: no such snapshot file"),
        (
            ["bench", "--compare", str(_baseline(tmp_path / "plain.json", benchmarks=False))],
            "that snapshot has no benchmarks or numerics",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line]
        assert len(lines) == 1 and message in lines[0], lines
        assert "Traceback" not in result.output


def test_snapshot_numerics_only_and_bad_bench_options(tmp_path: Path, envparity_home: Path) -> None:
    out = tmp_path / "snap.json"
    result = runner.invoke(app, ["snapshot", "--no-store", "--numerics", "-o", str(out)])
    assert result.exit_code == 0, result.output
    snap = Snapshot.model_validate_json(out.read_text())
    assert snap.benchmarks is None and snap.numerics
    assert {n.name for n in snap.numerics} >= {"py_sum", "numpy_gemm_f64"}
    for args, message in [
        (["--bench-callable", "m:f"], "--bench-callable needs --suite quick|full"),
        (["--suite", "nope"], "'--suite': 'nope' is not one of 'quick', 'full'"),
    ]:
        result = runner.invoke(app, ["snapshot", "--no-store", *args])
        assert result.exit_code == 2 and message in result.stderr, result.output


def test_snapshot_bench_in_a_real_process_keeps_the_fingerprint(
    tmp_path: Path, envparity_home: Path
) -> None:
    env = {**os.environ, "ENVPARITY_HOME": str(envparity_home)}
    out = tmp_path / "bench.json"
    done = run_cli("snapshot", "--no-store", "--bench", "quick", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    snap = Snapshot.model_validate_json(out.read_text())
    assert snap.benchmarks is not None and snap.benchmarks.suite == "quick"
    assert snap.numerics is not None  # on by default with --bench
    plain = snap.model_copy(update={"benchmarks": None, "numerics": None})
    assert snap.fingerprint == plain.with_fingerprint().fingerprint
