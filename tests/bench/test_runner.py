"""run_suite: worker processes, user benchmarks that fail, skip paths without NumPy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envparity.bench import registry
from envparity.bench.runner import parse_callable, run_suite
from envparity.bench.suite import SUITES, SuiteSpec
from envparity.errors import BadInput

from .helpers import REPO, python, without_numpy_env

USER_MODULE = """
import os

def fine():
    sum(range(200))

def boom():
    raise ValueError("kaput")

def load():
    return list(range(300, 0, -1))

def predict(rows):
    sorted(rows)

def die():
    os._exit(3)
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "epbench_user.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import epbench_user  # type: ignore[import-not-found]

    yield epbench_user
    registry.unregister("predict")
    registry.unregister("inline")


def test_user_benchmarks_run_and_a_failing_one_is_recorded(user_module) -> None:
    registry.register_benchmark("predict", user_module.predict, setup=user_module.load)
    registry.register_benchmark("inline", lambda: sum(range(50)))
    run, numeric = run_suite(
        "quick",
        callables=["epbench_user:fine", "epbench_user:boom"],
        numerics=False,
        processes=2,
    )
    assert numeric is None
    assert run.processes == 2 and run.suite == "quick" and run.wall_seconds > 0
    got = {r.name: r for r in run.results}
    for name in ("py_loop", "predict", "epbench_user:fine", "inline"):
        assert got[name].status == "ok", got[name]
        assert len(got[name].samples) == 2
        assert all(len(s) == SUITES["quick"].rounds for s in got[name].samples)
        assert got[name].loops >= 1
    # Loop counts come from the first worker, so every process times the same work.
    assert all(s > 0 for s in got["predict"].samples[1])
    assert got["epbench_user:boom"].status == "failed"
    assert got["epbench_user:boom"].reason == "ValueError: kaput"
    assert "ran in the calling process" in (got["inline"].reason or "")
    assert "lambda" in (got["inline"].reason or "")
    assert got["predict"].reason is None  # importable: it ran in the workers
    assert got["py_alloc"].peak_memory_bytes and got["py_alloc"].peak_memory_bytes > 10_000


def test_a_worker_that_dies_is_reported_not_raised(user_module) -> None:
    run, _ = run_suite("quick", callables=["epbench_user:die"], numerics=False, processes=1)
    for r in run.results:
        if r.status != "skipped":
            assert r.status == "failed"
            assert "worker process 0 exited with code 3" in (r.reason or "")


@pytest.mark.parametrize(("budget_s", "expected"), [(0.0, 2), (60.0, 4)])
def test_a_suite_runs_as_many_processes_as_its_time_budget_allows(
    user_module, monkeypatch: pytest.MonkeyPatch, budget_s: float, expected: int
) -> None:
    # A slow machine gets the suite's minimum of worker processes, not a longer wait; a fast one
    # gets them all; an explicit count is always honoured.
    spec = SuiteSpec([], processes=4, rounds=2, warmups=1, min_processes=2, budget_s=budget_s)
    monkeypatch.setitem(SUITES, "tiny", spec)
    run, _ = run_suite("tiny", callables=["epbench_user:fine"], numerics=False)
    (result,) = run.results
    assert run.processes == expected and len(result.samples) == expected
    run, _ = run_suite("tiny", callables=["epbench_user:fine"], numerics=False, processes=3)
    assert run.processes == 3 and len(run.results[0].samples) == 3


def test_bad_callables_and_suites_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="expected module:function"):
        parse_callable("no_colon_here")
    with pytest.raises(BadInput, match="no module named 'surely_not_a_module_xyz'"):
        parse_callable("surely_not_a_module_xyz:fn")
    with pytest.raises(BadInput, match="unknown suite; choose one of quick, full"):
        run_suite("fast")


def test_register_benchmark_rejects_bad_arguments() -> None:
    with pytest.raises(BadInput, match="must be callable"):
        registry.register_benchmark("x", 42)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="non-empty"):
        registry.register_benchmark("", abs)


def test_importability_decides_where_a_benchmark_runs() -> None:
    import os.path

    assert registry.importable_name(os.path.join) == ("posixpath:join", None)
    target, why = registry.importable_name(lambda: None)
    assert target is None and "lambda" in (why or "")


_NO_NUMPY_RUN = (
    "import json; from envparity.bench.runner import run_suite; "
    "run, num = run_suite('quick', processes=1); "
    "print(json.dumps({'run': run.model_dump(mode='json'), "
    "'num': [n.model_dump(mode='json') for n in num]}))"
)


def test_without_numpy_python_benchmarks_run_and_the_rest_are_skipped(tmp_path: Path) -> None:
    out = json.loads(python(_NO_NUMPY_RUN, env=without_numpy_env(tmp_path)))
    got = {r["name"]: r for r in out["run"]["results"]}
    for name in ("py_loop", "py_alloc", "mem_copy"):
        assert got[name]["status"] == "ok", got[name]
    for name in ("mem_triad", "numpy_gemm_f32", "numpy_exp_f64"):
        assert got[name]["status"] == "skipped"
        assert got[name]["reason"].startswith("NumPy is not installed")
    assert got["torch_cuda_matmul"]["status"] == "skipped"
    assert (
        "not installed" in got["torch_cuda_matmul"]["reason"]
        or "CUDA" in (got["torch_cuda_matmul"]["reason"])
    )
    num = {n["name"]: n for n in out["num"]}
    assert num["py_sum"]["status"] == "ok" and num["numpy_gemm_f64"]["status"] == "skipped"


def test_workers_and_import_envparity_stay_light() -> None:
    # A worker imports only the standard library and the benchmark it runs, so it starts fast;
    # `import envparity` (the start-up hook pays for it) must not pull in NumPy or pydantic here.
    out = python(
        "import sys, envparity, envparity.bench.worker, envparity.bench.runner; "
        "envparity.register_benchmark; "
        "print(sorted(m for m in ('numpy', 'pydantic', 'torch', 'sqlalchemy', 'typer') "
        "if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_workers_import_what_a_pth_file_puts_on_the_path(tmp_path: Path, make_venv) -> None:
    # Workers start without site (-S); a module that only a .pth file of the caller's environment
    # makes importable must still reach them, through the caller's sys.path.
    venv = make_venv("pth")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pth_bench.py").write_text("def work():\n    sum(range(100))\n")
    (venv.site_packages / "elsewhere.pth").write_text(f"{elsewhere}\n")
    deps = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *deps])}
    code = (
        "import json; from envparity.bench.runner import run_suite; "
        "run, _ = run_suite('quick', processes=1, numerics=False, callables=['pth_bench:work']); "
        "print(json.dumps({r.name: [r.status, r.reason] for r in run.results}))"
    )
    done = subprocess.run(
        [str(venv.python), "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pth_bench:work"] == ["ok", None]
