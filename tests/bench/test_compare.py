"""compare_benchmarks: the verdicts and findings diff shows (numeric probes: tests/parity)."""

from __future__ import annotations

from typing import List

from envparity.bench.compare import compare_benchmarks
from envparity.model import BenchmarkResult, BenchmarkRun, NumericResult


def _run(*results: BenchmarkResult) -> BenchmarkRun:
    return BenchmarkRun(suite="quick", processes=5, wall_seconds=1.0, results=list(results))


def _ok(name: str, center: float) -> BenchmarkResult:
    # Five processes, a little spread between them and within each.
    samples = [[center * (1 + 0.01 * p) * (1 + 0.001 * s) for s in range(6)] for p in range(5)]
    return BenchmarkResult(name=name, loops=10, samples=samples)


def _by(comparisons) -> dict:
    return {c.name: c for c in comparisons}


def test_verdicts_for_every_state() -> None:
    base = _run(
        _ok("same", 1e-3),
        _ok("slow", 1e-3),
        _ok("fast", 1e-3),
        _ok("gone", 1e-3),
        BenchmarkResult(name="boom", status="failed", reason="ValueError: kaput"),
        BenchmarkResult(name="gpu", status="skipped", reason="CUDA is not available"),
    )
    cand = _run(
        _ok("same", 1e-3),
        _ok("slow", 1.8e-3),
        _ok("fast", 0.5e-3),
        _ok("boom", 1e-3),
        _ok("gpu", 1e-3),
        _ok("new", 1e-3),
    )
    got = _by(compare_benchmarks(base, cand))
    assert got["same"].verdict == "same" and got["same"].ratio == 1.0
    assert got["slow"].verdict == "slower"
    assert 1.7 < got["slow"].ratio < 1.9 and got["slow"].ci_low > 1.05
    assert "1.80x" in got["slow"].why and "99% CI" in got["slow"].why
    assert got["fast"].verdict == "faster" and got["fast"].ci_high < 1 / 1.05
    assert got["gone"].verdict == "missing" and "candidate" in got["gone"].why
    assert got["new"].verdict == "missing" and "baseline" in got["new"].why
    assert got["boom"].verdict == "failed" and "kaput" in got["boom"].why
    assert got["gpu"].verdict == "skipped" and "CUDA" in got["gpu"].why
    assert got["slow"].baseline_median_s is not None and got["slow"].p_value is not None


def test_one_side_without_a_run() -> None:
    run = _run(_ok("py_loop", 1e-3))
    assert compare_benchmarks(None, None) == []
    (only,) = compare_benchmarks(None, run)
    assert only.verdict == "missing"
    (only,) = compare_benchmarks(run, None)
    assert only.verdict == "missing"


def _num(
    name: str, values: List[float], digest: str = "a" * 64, rtol: float = 1e-6, **kw: object
) -> NumericResult:
    return NumericResult(
        name=name,
        dtype="float64",
        shape=[len(values)],
        sha256=digest,
        values=values,
        rtol=rtol,
        **kw,  # type: ignore[arg-type]
    )


def _conditions(contention: float):
    from envparity.model import RunConditions, WorkerConditions

    worker = WorkerConditions(
        seconds=0.2,
        cpus=2,
        own_cpu_s=0.2,
        others_cpu_s=0.4 * contention / 0.2 * 0.2,
        steal_s=0.0,
        contention=contention,
    )
    return RunConditions(
        load_avg=[5.9, 4.0, 2.0],
        cpu_count=2,
        affinity_cpus=2,
        workers=[worker] * 5,
        contention=contention,
        contended=contention >= 0.2,
        warning="benchmarks ran under contention" if contention >= 0.2 else None,
    )


def test_a_contended_baseline_cannot_make_the_candidate_look_faster() -> None:
    # The case: a baseline captured under load makes the candidate look faster (0.14x).
    loaded = _run(_ok("numpy_gemm_f32", 7e-3), _ok("py_loop", 1e-3), _ok("torch_cuda_matmul", 2e-3))
    loaded = loaded.model_copy(update={"conditions": _conditions(0.6)})
    quiet = _run(_ok("numpy_gemm_f32", 1e-3), _ok("py_loop", 2e-3), _ok("torch_cuda_matmul", 1e-3))
    quiet = quiet.model_copy(update={"conditions": _conditions(0.01)})
    got = _by(compare_benchmarks(loaded, quiet))
    gemm = got["numpy_gemm_f32"]
    assert gemm.verdict == "unstable" and gemm.contended_sides == ["baseline"]
    assert "baseline ran under contention" in gemm.why and "--against" in gemm.why
    # Against the push of the baseline's contention, a slowdown still stands...
    assert got["py_loop"].verdict == "slower" and got["py_loop"].contended_sides == []
    # ...and a GPU benchmark timed with CUDA events is not held back at all.
    assert got["torch_cuda_matmul"].verdict == "faster"
    assert "CONTENDED" in (gemm.baseline_conditions or "")
    assert "load 5.9" in (gemm.baseline_conditions or "")
    assert "CONTENDED" not in (gemm.candidate_conditions or "")
    # Runs from before conditions were recorded: compared as before, and the report says so.
    old = compare_benchmarks(_run(_ok("py_loop", 1e-3)), _run(_ok("py_loop", 2e-3)))
    assert old[0].verdict == "slower" and "not recorded" in (old[0].baseline_conditions or "")


def test_memory_verdict_from_every_process_and_old_single_peaks() -> None:
    def with_peaks(peaks: List[int]) -> BenchmarkResult:
        return _ok("alloc", 1e-3).model_copy(update={"peaks_bytes": peaks})

    (c,) = compare_benchmarks(
        _run(with_peaks([100_000] * 5)),
        _run(with_peaks([200_000, 200_100, 199_900, 200_000, 200_000])),
    )
    assert c.memory_verdict == "more" and c.memory_ratio == 2.0
    assert c.baseline_peak_bytes == 100_000 and "2.00x" in c.memory_why
    old = _ok("alloc", 1e-3).model_copy(update={"peak_memory_bytes": 100_000})
    (c,) = compare_benchmarks(_run(old), _run(old))
    assert c.memory_verdict == "same"


def test_capture_warns_when_contended() -> None:
    import io

    from envparity.bench.runner import warn_if_contended

    out = io.StringIO()
    warn_if_contended(_run().model_copy(update={"conditions": _conditions(0.6)}), out)
    assert out.getvalue().startswith("warning: benchmarks ran under contention")
    quiet = io.StringIO()
    warn_if_contended(_run().model_copy(update={"conditions": _conditions(0.01)}), quiet)
    assert quiet.getvalue() == ""


def test_diff_reports_a_benchmark_that_allocates_more() -> None:
    from datetime import datetime, timezone

    from envparity.comparison import compare as diff
    from envparity.model import Collection, PythonInfo, Snapshot

    def snap(peak: int) -> Snapshot:
        result = _ok("predict", 1e-3).model_copy(update={"peaks_bytes": [peak] * 5})
        return Snapshot(
            snapshot_id=str(peak),
            captured_at=datetime.now(timezone.utc),
            python=PythonInfo(implementation="cpython", version="3.11.7"),
            collection=Collection(envparity_version="0.1.0"),
            benchmarks=_run(result),
        ).with_fingerprint()

    report = diff(snap(1_000_000), snap(2_000_000))
    (f,) = report.findings
    assert (f.category, f.key, f.severity) == ("benchmark", "predict.memory", "warning")
    assert "2.00x the baseline's peak" in f.why
    assert diff(snap(1_000_000), snap(1_000_000)).findings == []
