"""`bench --against` without a side bias: the schedule, both sides' worker start-up, the adaptive
rule, and how far a comparison could see (no timing in any of these)."""

from __future__ import annotations

import json
import math
import os
import sys
import venv
from pathlib import Path
from typing import Any, Dict, List

import pytest
from typer.testing import CliRunner

from envparity.bench.compare import compare_benchmarks
from envparity.bench.paired import _unsettled, run_against, schedule
from envparity.bench.sides import launch, other_side, paired_side
from envparity.bench.stats import decide, decide_paired, detectable
from envparity.cli import app
from envparity.model import BenchmarkResult, BenchmarkRun

runner = CliRunner()


def test_schedule_counterbalances_order_and_carryover() -> None:
    assert schedule(4) == [(0, 1), (1, 0), (1, 0), (0, 1)]  # AB BA BA AB
    for n in range(1, 41):
        orders = schedule(n)
        assert len(orders) == n and set(orders) <= {(0, 1), (1, 0)}
        a_first = sum(1 for o in orders if o == (0, 1))
        assert abs(2 * a_first - n) <= 1  # each side first equally often, within one round
        if n % 2 == 0:
            assert 2 * a_first == n
        if n % 4 == 0:
            # Across the sequence of workers, each side follows each side equally often.
            seq = [side for o in orders for side in o]
            follows = {(x, y): 0 for x in (0, 1) for y in (0, 1)}
            for x, y in zip(seq, seq[1:]):
                follows[(x, y)] += 1
            assert follows[(0, 1)] - follows[(1, 0)] in (-1, 0, 1)
            assert follows[(0, 0)] == follows[(1, 1)]


@pytest.fixture(scope="module")
def other_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    # A real second interpreter: a venv of this Python (no pip: nothing is installed in it).
    root = tmp_path_factory.mktemp("other-venv")
    venv.create(root, with_pip=False, symlinks=os.name != "nt")
    bindir = "Scripts" if os.name == "nt" else "bin"
    return str(root / bindir / ("python.exe" if os.name == "nt" else "python"))


def test_both_sides_are_launched_alike(other_python: str, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere/of/this/environment")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    a = paired_side(sys.executable, {"EP_SCALE": "1.0"})
    b = other_side(other_python, {"EP_SCALE": "1.1"})
    for index in (0, 1, 7):
        argv_a, env_a = launch(a, index)
        argv_b, env_b = launch(b, index)
        assert argv_a[0] == sys.executable and argv_b[0] == other_python
        assert argv_a[1:] == argv_b[1:] == ["-m", "envparity.bench.worker"]  # no extra flags
        assert env_a["EP_SCALE"] == "1.0" and env_b["EP_SCALE"] == "1.1"
        assert {k: v for k, v in env_a.items() if k != "EP_SCALE"} == {
            k: v for k, v in env_b.items() if k != "EP_SCALE"
        }
        # Neither side sees this environment's PYTHONPATH, only the link to envparity.
        assert "/somewhere" not in env_a["PYTHONPATH"]
        assert env_a["PYTHONHASHSEED"] == env_b["PYTHONHASHSEED"]
    assert launch(a, 0)[1]["PYTHONHASHSEED"] != launch(a, 1)[1]["PYTHONHASHSEED"]
    assert a.sys_path == b.sys_path == [os.getcwd()]
    monkeypatch.setenv("PYTHONHASHSEED", "123")  # the user's choice is kept on both sides
    a, b = paired_side(sys.executable), other_side(other_python)
    assert launch(a, 3)[1]["PYTHONHASHSEED"] == launch(b, 3)[1]["PYTHONHASHSEED"] == "123"


_RECORDER = """
import json, os, sys


def load():
    # What a worker started with, written once per worker process.
    record = {
        "side": os.environ["EP_SIDE"],
        "executable": sys.executable,
        "argv": sys.argv,
        "flags": [sys.flags.no_site, sys.flags.isolated, sys.flags.ignore_environment,
                  sys.flags.optimize, sys.flags.dont_write_bytecode],
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items() if k != "EP_SIDE"},
        "path_head": sys.path[:3],
        "site": "site" in sys.modules,
    }
    name = os.path.join(os.environ["EP_RECORDS"], f"{os.getpid()}.json")
    with open(name, "w") as f:
        json.dump(record, f)
    return 1


def work(state):
    return state + 1
"""


def test_workers_of_both_sides_start_alike(tmp_path: Path, monkeypatch) -> None:
    # What the workers themselves saw, on both sides of a real --against of this interpreter:
    # the same flags, start-up path, directory and variables but for the one the user set.
    # Before, the baseline's workers ran with -S and its whole sys.path on PYTHONPATH, the
    # candidate's through site with another PYTHONPATH.
    records = tmp_path / "records"
    records.mkdir()
    (tmp_path / "ep_recorder.py").write_text(_RECORDER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("EP_RECORDS", str(records))
    import ep_recorder  # type: ignore[import-not-found]

    from envparity.bench import registry

    registry.register_benchmark("recorder", ep_recorder.work, setup=ep_recorder.load)
    try:
        a, b = run_against(
            sys.executable, env={"EP_SIDE": "A"}, against_env={"EP_SIDE": "B"}, processes=2
        )
    finally:
        registry.unregister("recorder")
    mine = {r.name: r for r in a.results}["recorder"]
    assert mine.status == "ok", mine.reason
    seen: Dict[str, List[Dict[str, Any]]] = {"A": [], "B": []}
    for path in records.iterdir():
        doc = json.loads(path.read_text())
        seen[doc.pop("side")].append(doc)
    assert len(seen["A"]) == 3 and len(seen["B"]) == 2  # A's calibration worker, then 2 rounds
    by_seed = {}
    for side, docs in seen.items():
        for doc in docs:
            by_seed.setdefault(doc["env"].get("PYTHONHASHSEED"), {})[side] = doc
    pairs = [p for p in by_seed.values() if len(p) == 2]
    assert len(pairs) == 2  # each round's two workers share their hash seed
    for pair in pairs:
        assert pair["A"] == pair["B"]


def _paired_run(name: str, times: List[float]) -> BenchmarkRun:
    samples = [[t, t * 1.01, t * 1.02] for t in times]
    result = BenchmarkResult(name=name, loops=10, samples=samples)
    return BenchmarkRun(
        suite="quick+paired", processes=len(times), wall_seconds=1.0, results=[result]
    )


# Symmetric noise of a few percent on 16 rounds' log ratios, fixed (no RNG).
_NOISE = [0.031, -0.027, 0.012, -0.009, 0.044, -0.041, 0.003, -0.006, 0.022, -0.019,
          0.035, -0.038, 0.0, 0.015, -0.013, 0.008]


def _logs_verdict(shift: float) -> Any:
    base = [[1e-3] for _ in _NOISE]
    cand = [[1e-3 * math.exp(shift + e)] for e in _NOISE]
    return decide_paired(base, cand)


def test_detectable_effect_is_the_smallest_effect_that_is_called() -> None:
    aa = _logs_verdict(0.0)
    reach = aa.detectable
    assert aa.verdict in ("same", "inconclusive") and reach is not None and reach > 0.05
    assert reach == pytest.approx(detectable(aa.ci_low, aa.ci_high, 0.05, precise=False))
    # The interval of the same noise moves with the effect: an effect just beyond the reach is
    # called both ways, one just short of it is not.
    assert _logs_verdict(math.log1p(reach) * 1.03).verdict == "slower"
    assert _logs_verdict(-math.log1p(reach) * 1.03).verdict == "faster"
    assert _logs_verdict(math.log1p(reach) * 0.97).verdict != "slower"
    assert _logs_verdict(-math.log1p(reach) * 0.97).verdict != "faster"
    # Noisier rounds, the same effect: it could see less far.
    noisy = decide_paired([[1e-3] for _ in _NOISE], [[1e-3 * math.exp(3 * e)] for e in _NOISE])
    assert noisy.detectable is not None and noisy.detectable > reach
    # Too few rounds to call anything at 99%: no reach at all.
    assert decide_paired([[1e-3]] * 5, [[1.5e-3]] * 5).detectable is None


def test_stored_runs_state_how_far_they_could_see() -> None:
    from envparity.drift.measured import benchmark_text
    from envparity.model import DriftReport
    from envparity.report import render

    def run(center: float, spread: float) -> BenchmarkRun:
        samples = [[center * (1 + spread * ((p * 7) % 5)) for _ in range(5)] for p in range(9)]
        res = BenchmarkResult(name="predict", loops=10, samples=samples)
        return BenchmarkRun(suite="quick", processes=9, wall_seconds=2.0, results=[res])

    (tight,) = compare_benchmarks(run(1e-3, 0.002), run(1e-3, 0.002))
    (loose,) = compare_benchmarks(run(1e-3, 0.05), run(1.05e-3, 0.05))
    assert tight.detectable_effect is not None and loose.detectable_effect is not None
    assert loose.verdict in ("inconclusive", "unstable")
    assert loose.detectable_effect > tight.detectable_effect
    v = decide(run(1e-3, 0.05).results[0].samples, run(1.05e-3, 0.05).results[0].samples)
    assert v.detectable == pytest.approx(detectable(v.ci_low, v.ci_high, 0.05))
    phrase = f"could detect >= {loose.detectable_effect:.0%} here"
    assert phrase in benchmark_text(loose.model_dump())
    assert loose.model_dump(mode="json")["detectable_effect"] == loose.detectable_effect
    report = DriftReport.model_validate(
        {
            "baseline": {"ref": "a", "snapshot_id": "a", "fingerprint": "f",
                         "captured_at": "2026-01-01T00:00:00Z"},
            "candidate": {"ref": "b", "snapshot_id": "b", "fingerprint": "f",
                          "captured_at": "2026-01-01T00:00:00Z"},
            "verdict": "none",
            "failed": False,
            "benchmarks": [loose.model_dump(mode="json")],
        }
    )
    for fmt in ("text", "markdown", "html"):
        assert phrase.replace(">", "&gt;" if fmt != "text" else ">") in render(report, fmt), fmt


def test_paired_runs_under_contention_say_so_and_still_call() -> None:
    from envparity.model import RunConditions

    times = [1e-3 * (1 + 0.01 * (i % 3)) for i in range(12)]
    base = _paired_run("py_loop", times)
    cand = _paired_run("py_loop", [t * 1.3 for t in times])
    busy = RunConditions(contention=0.5, contended=True, warning="contended")
    base = base.model_copy(update={"conditions": busy})
    (c,) = compare_benchmarks(base, cand)
    assert c.paired and c.verdict == "slower" and c.contended_sides == []
    assert "ran under contention" in c.why and "50%" in c.why and c.detectable_effect


def test_adaptive_rounds_stop_only_when_every_verdict_is_settled() -> None:
    def rounds(name: str, factor: float, noise: List[float]) -> List[List[Dict[str, Any]]]:
        a = [{name: {"status": "ok", "samples": [1e-3]}} for _ in noise]
        b = [{name: {"status": "ok", "samples": [1e-3 * factor * math.exp(e)]}} for e in noise]
        return [a, b]

    quiet = [e / 10 for e in _NOISE]
    assert _unsettled(["x"], rounds("x", 1.3, quiet), 0.05) == []  # called: slower
    assert _unsettled(["x"], rounds("x", 1.0, quiet), 0.05) == []  # settled: same
    assert _unsettled(["x"], rounds("x", 1.06, _NOISE), 0.05) == ["x"]  # straddles: more rounds
    skipped = [[{"x": {"status": "skipped", "samples": []}}]] * 2
    assert _unsettled(["x"], skipped, 0.05) == []  # more rounds would not help


def test_max_time_bad_input_is_one_line_and_exit_2() -> None:
    cases = [
        (["--max-time", "5"], "--max-time needs --against PYTHON"),
        (["--against", sys.executable, "--max-time", "0"], "--max-time 0: give a positive"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["bench", "--no-numerics", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line]
        assert len(lines) == 1 and message in lines[0], lines


def test_paired_rounds_on_quiet_vm_recordings_call_10_percent_both_ways() -> None:
    # The quiet-VM recordings (20 + 20 quick runs of a user benchmark, the candidate's 10%
    # slower) replayed as paired rounds, process i of one side against process i of the other,
    # with the runner's adaptive rule: ten experiments from 10 rounds, two more while the
    # verdict is open, at most 24 (about 12 s of --against there). Before the start-up and order
    # were made alike, a real --against saw the same 10% speed-up 0 of 6 times.
    data = json.loads((Path(__file__).parent / "data" / "quiet_vm_runs.json").read_text())
    base = [[ns * 1e-9 for ns in p] for run in data["baseline"] for p in run]
    slow = [[ns * 1e-9 for ns in p] for run in data["candidate"] for p in run]
    fast = [[s * 0.9 / 1.1 for s in p] for p in slow]  # the same noise, 10% faster
    other = base[120:] + base[:120]

    def adaptive(a: List[List[float]], b: List[List[float]]) -> str:
        n = 10
        per = [[{"x": {"status": "ok", "samples": s}} for s in side] for side in (a, b)]
        while _unsettled(["x"], [per[0][:n], per[1][:n]], 0.05) and n < 24:
            n += 2
        return decide_paired(a[:n], b[:n]).verdict

    verdicts: Dict[str, List[str]] = {"slower": [], "faster": [], "aa": []}
    for k in range(0, 120, 12):
        verdicts["slower"].append(adaptive(base[k:], slow[k:]))
        verdicts["faster"].append(adaptive(base[k:], fast[k:]))
        verdicts["aa"].append(adaptive(base[k:], other[k:]))
    assert verdicts["slower"].count("slower") >= 9, verdicts
    assert verdicts["faster"].count("faster") >= 9, verdicts
    assert not {"slower", "faster"} & set(verdicts["aa"]), verdicts


# 44 rounds as the quiet VM gives them: log ratios within ~5% of the effect, and the rounds a
# slow spell of the machine began or ended in (one worker of the round inside it, the other not),
# mostly against one side, as a run of 30 s with a few spells can have them.
_BULK = [((i * 7) % 13 - 6) * 0.008 for i in range(44)]
_SPELLS = [0.12, 0.15, 0.2, 0.26, 0.30, 0.34, 0.41, 0.56, 0.72, 0.73, 0.8, 0.9, -0.25, -0.3]


def _spell_rounds(effect: float, spells: List[float]) -> Any:
    logs = [effect + e for e in _BULK[: len(_BULK) - len(spells)]] + spells
    return decide_paired([[1e-3] for _ in logs], [[1e-3 * math.exp(x)] for x in logs])


def test_paired_call_stands_when_rounds_disagree_on_how_much_not_which_way() -> None:
    # A 10% slowdown, and spells mostly on the slow side: the interval is wholly beyond 5% and
    # wider than the effect. Stored runs would say `unstable` (an interval that wide is what a
    # neighbour slowing one whole run looks like); paired rounds call it, since a spell slows
    # one worker of a round, never one side's rounds only.
    for sign in (1, -1):
        v = _spell_rounds(sign * math.log(1.10), [sign * x for x in _SPELLS])
        assert v.verdict == ("slower" if sign > 0 else "faster"), v.why
        assert math.log(v.ci_high / v.ci_low) > abs(math.log(v.ratio))
        assert v.ci_low > 1.05 if sign > 0 else v.ci_high < 1 / 1.05
    # The same spells in an A/A comparison: no call, whichever side they fell on.
    assert _spell_rounds(0.0, _SPELLS).verdict not in ("slower", "faster")
    assert _spell_rounds(0.0, [-x for x in _SPELLS]).verdict not in ("slower", "faster")
    # A 10% slowdown with the spells against it: a call or none, never the wrong way.
    assert _spell_rounds(math.log(1.10), [-x for x in _SPELLS]).verdict != "faster"
