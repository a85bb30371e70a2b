"""`envparity bench --against`, memory per worker, conditions and progress, with real workers."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envparity.bench.compare import compare_benchmarks, conditions_line
from envparity.bench.runner import Progress, run_against, run_suite
from envparity.cli import app

runner = CliRunner()

_USER = """
import os

SCALE = float(os.environ.get("EP_TEST_SCALE", "1"))


def alloc():
    # Allocates SCALE x 200 kB and frees it: the peak tracemalloc sees scales with SCALE.
    blob = bytearray(int(200_000 * SCALE))
    return len(blob)
"""


@pytest.fixture()
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ep_user_bench.py").write_text(_USER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ep_user_bench:alloc"


def test_against_interleaves_pairs_and_compares_memory(user_module: str) -> None:
    # The same interpreter on the other side, allocating twice as much there.
    a, b = run_against(
        sys.executable,
        "quick",
        callables=[user_module],
        against_env={"EP_TEST_SCALE": "2"},
        processes=3,
    )
    assert a.suite == b.suite == "quick+paired" and a.processes == b.processes == 3
    assert b.env == {"EP_TEST_SCALE": "2"} and a.env == {}
    assert a.conditions is not None and len(a.conditions.workers) == 3
    assert b.conditions is not None and b.conditions.workers[0].seconds > 0
    mine = {r.name: r for r in b.results}[user_module]
    assert len(mine.peaks_bytes) == 3  # a peak from every worker, not just the first
    got = {c.name: c for c in compare_benchmarks(a, b)}
    c = got[user_module]
    assert c.paired and c.memory_verdict == "more" and c.memory_ratio == pytest.approx(2, 0.1)
    assert "paired over 3 rounds" in c.why and c.verdict == "inconclusive"  # 3 rounds: too few
    assert c.baseline_conditions and c.candidate_conditions
    assert got["py_loop"].memory_verdict == "same"


def test_every_run_records_its_conditions() -> None:
    run, _ = run_suite(
        "quick", numerics=False, processes=2, env={"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz1234"}
    )
    assert run.env["HF_TOKEN"] != "hf_abcdefghijklmnopqrstuvwxyz1234"  # recorded redacted
    c = run.conditions
    assert c is not None and len(c.workers) == 2
    w = c.workers[0]
    assert w.seconds > 0 and w.own_cpu_s > 0 and w.cpus >= 1
    if os.path.exists("/proc/stat"):
        assert w.others_cpu_s is not None and w.steal_s is not None and w.contention is not None
        assert c.contention is not None and c.load_avg is not None
        assert c.contended == (c.contention >= 0.2)
        assert bool(c.warning) == c.contended
    assert run.python == sys.executable
    line = conditions_line(run)
    assert line and "CPUs" in line


def test_progress_only_on_a_terminal_and_only_after_a_second() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    p = Progress("bench quick", 4, stream=tty, after_s=0.0)
    p.update(1)
    p.close()
    assert "bench quick: worker 1/4" in tty.getvalue() and tty.getvalue().endswith("\r")
    quiet = Tty()
    p = Progress("bench quick", 4, stream=quiet, after_s=60.0)
    p.update(1)
    p.close()
    assert quiet.getvalue() == ""  # a run under a second prints nothing
    pipe = io.StringIO()  # not a TTY: CI logs stay clean
    p = Progress("bench quick", 4, stream=pipe, after_s=0.0)
    p.update(1)
    p.close()
    assert pipe.getvalue() == ""


def test_against_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        (["--against", str(tmp_path / "nopython")], "no such interpreter"),
        (["--env", "NOEQUALS"], "--env 'NOEQUALS': expected KEY=VALUE"),
        (["--against-env", "A=1"], "--against-env needs --against PYTHON"),
        (["--against", sys.executable, "--compare", "x.json"], "give one"),
    ]
    not_python = tmp_path / "not-python"
    not_python.write_text("#!/bin/sh\nexit 3\n")
    not_python.chmod(0o755)
    cases.append((["--against", str(not_python)], "not a working Python interpreter"))
    for args, message in cases:
        result = runner.invoke(app, ["bench", "--no-numerics", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line]
        assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or not os.path.exists("/proc/stat"),
    reason="needs Linux affinity and /proc/stat",
)
def test_a_run_beside_a_cpu_hog_is_recorded_contended_and_warned(capsys) -> None:
    import subprocess

    import envparity
    from envparity.bench.runner import attach

    cpu = min(os.sched_getaffinity(0))
    saved = os.sched_getaffinity(0)
    hog = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),  # noqa: PLW1509
    )
    try:
        os.sched_setaffinity(0, {cpu})  # the workers inherit it: they share the hog's CPU
        snap = attach(envparity.snapshot(), "quick", numerics=False)
    finally:
        os.sched_setaffinity(0, saved)
        hog.kill()
        hog.wait()
    c = snap.benchmarks.conditions
    assert c is not None and c.affinity_cpus == 1
    assert c.contended and c.contention is not None and c.contention >= 0.2, c
    assert c.warning and "--against" in c.warning
    assert "warning: benchmarks ran under contention" in capsys.readouterr().err


def test_workers_find_envparity_from_any_directory(tmp_path: Path) -> None:
    # An editable install is found through an import hook a .pth file installs; workers start
    # without site (-S), so they must reach envparity another way. From the checkout the
    # current directory hid this; from anywhere else every benchmark failed.
    import json
    import subprocess

    code = (
        "import json, sys; sys.path = [p for p in sys.path if p not in ('', '.')]\n"
        "from envparity.bench.runner import run_suite\n"
        "run, _ = run_suite('quick', numerics=False, processes=1)\n"
        "print(json.dumps({r.name: r.status for r in run.results}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["py_loop"] == "ok"
