"""Classification rules, the hiding finder, the trial kill, the symptom comparisons, renderers."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest
from _support import REPO

from envparity.bisect import child, classify
from envparity.bisect.ddmin import GONE, PRESENT, UNRESOLVED
from envparity.bisect.model import (
    BisectReport,
    CauseSet,
    DifferenceRow,
    SymptomReport,
    TrialRow,
)
from envparity.bisect.overlay import Overlays
from envparity.bisect.render import render
from envparity.bisect.symptom import Symptom, compare_probe, judge
from envparity.bisect.trial import TIMEOUT, Trials


def _f(category: str, key: str, base: Any, cand: Any) -> Dict[str, Any]:
    change = "added" if base is None else "removed" if cand is None else "changed"
    return {"category": category, "key": key, "baseline": base, "candidate": cand,
            "change": change, "severity": "warning", "why": ""}


@pytest.mark.parametrize(
    ("finding", "kind"),
    [
        (_f("package", "numpy", "1.26.4", "2.2.6"), "overlay"),
        (_f("package", "gone", "1.0", None), "overlay"),
        (_f("package", "extra", None, "1.0"), "hide"),
        (_f("package", "numpy.editable", False, True), "untestable"),
        (_f("package", "numpy.content", "0123456789ab", "ba9876543210"), "untestable"),
        (_f("package", "numpy (shadowed)", "1.0", None), "untestable"),
        (_f("package", "envparity", "0.1.0", None), "untestable"),
        (_f("determinism", "OPENBLAS_NUM_THREADS", None, "1"), "env"),
        (_f("determinism", "PYTHONHASHSEED", "0", None), "env"),
        (_f("determinism", "torch.deterministic_algorithms", True, False), "untestable"),
        (_f("env", "TZ", "UTC", "Asia/Tokyo"), "env"),
        (_f("env", "LC_ALL", "C.UTF-8", None), "env"),
        (_f("env", "CUDA_VISIBLE_DEVICES", "0", "0,1"), "env"),
        (_f("env", "LD_PRELOAD", "/x.so", None), "untestable"),
        (_f("env", "HF_TOKEN", "<redacted>", "<redacted>"), "untestable"),
        (_f("python", "version", "3.11.7", "3.12.1"), "untestable"),
        (_f("platform", "libc_version", "2.35", "2.39"), "untestable"),
        (_f("platform", "system", "Linux", "Darwin"), "untestable"),
        (_f("cpu", "flags.avx512f", "avx512f", None), "untestable"),
        (_f("gpu", "driver_version", "550", "535"), "untestable"),
        (_f("blas", "blas.libopenblas.version", "0.3.23", "0.3.27"), "untestable"),
        (_f("code", "commit", "a", "b"), "untestable"),
        (_f("seed", "torch", 1, 2), "untestable"),
    ],
)
def test_each_finding_is_sorted(finding: Dict[str, Any], kind: str) -> None:
    [d] = classify.classify([finding])
    assert d.kind == kind, d
    assert d.reason


def test_symptoms_are_not_differences() -> None:
    assert classify.classify([_f("numerics", "p", "a", "b"), _f("benchmark", "b", 1, 2)]) == []


def test_variables_restore_the_baseline_value_or_unset_it() -> None:
    a, b = classify.classify([
        _f("determinism", "OPENBLAS_NUM_THREADS", None, "1"),
        _f("env", "TZ", "UTC", "Asia/Tokyo"),
    ])
    assert a.variables == {"OPENBLAS_NUM_THREADS": None}
    assert b.variables == {"TZ": "UTC"}


def test_hash_seed_by_any_key_restores_pythonhashseed() -> None:
    [d] = classify.classify([_f("python", "hash_seed", "random", "0")])
    assert d.kind == "untestable"  # a python.* finding is the interpreter: never guessed
    [d] = classify.classify([_f("determinism", "hash_seed", "random", "0")])
    assert d.variables == {"PYTHONHASHSEED": "random"}


def test_platform_time_zone_folds_into_tz() -> None:
    diffs = classify.classify([
        _f("platform", "timezone", "UTC", "Asia/Tokyo"),
        _f("platform", "utc_offset_minutes", 0, 540),
        _f("env", "TZ", "UTC", "Asia/Tokyo"),
    ])
    assert [d.key for d in diffs] == ["TZ"]
    assert diffs[0].related == ["platform:timezone", "platform:utc_offset_minutes"]


def test_platform_zone_without_variable_is_restored_through_tz_when_named() -> None:
    [d] = classify.classify([_f("platform", "timezone", "Europe/Paris", "UTC")])
    assert d.kind == "env" and d.variables == {"TZ": "Europe/Paris"}
    [d] = classify.classify([_f("platform", "timezone", "CET", "UTC")])
    assert d.kind == "untestable"  # an abbreviation names no zone: never guessed


def test_hider_hides_a_distribution_as_if_absent(tmp_path: Path, monkeypatch) -> None:
    from importlib import metadata
    from importlib.machinery import PathFinder
    from importlib.util import find_spec

    (tmp_path / "hideme").mkdir()
    (tmp_path / "hideme" / "__init__.py").write_text("X = 1\n")
    info = tmp_path / "hide_me-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hide-me\nVersion: 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert metadata.version("hide-me") == "1.0"
    finder = child.Hider({"hideme": "hide-me"})
    monkeypatch.setattr(
        sys, "meta_path", [finder if f is PathFinder else f for f in sys.meta_path]
    )
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hideme")
    assert find_spec("hideme") is None
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("hide-me")
    assert find_spec("json") is not None  # everything else as before
    assert metadata.version("pytest")


def test_top_level_reads_the_distributions_modules() -> None:
    assert "pytest" in child.top_level("pytest")
    assert child.top_level("no-such-distribution-here") == []


def test_trial_past_its_share_is_killed_with_its_children(tmp_path: Path, monkeypatch) -> None:
    pid_file = tmp_path / "grandchild.pid"
    (tmp_path / "slowprobe.py").write_text(
        "import subprocess, sys, time, envparity\n"
        "def slow(_):\n"
        f"    p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"    open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "    time.sleep(60)\n"
        "    return [1]\n"
        "envparity.register_probe('slow', slow, None)\n"
    )
    monkeypatch.chdir(tmp_path)
    overlays = Overlays(sys.executable, root=str(tmp_path / "ov"), cache=str(tmp_path))
    trials = Trials(sys.executable, {}, overlays, probes=["slowprobe"], timeout=lambda: 3.0)
    started = time.perf_counter()
    trial = trials.run(frozenset())
    assert time.perf_counter() - started < 30
    assert trial.status == TIMEOUT and "killed after 3 s" in trial.detail
    pid = int(pid_file.read_text())
    for _ in range(50):  # the whole process group went
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the probe's own child process survived the kill")
    trials.close()


def test_probe_comparison_evidence() -> None:
    from envparity.bench.numerics import record_data

    base = record_data("p", lambda: [1.0, 2.0, 3.0])
    match, why = compare_probe(base, record_data("p", lambda: [1.0, 2.0, 3.0]))
    assert match and "identical" in why
    match, why = compare_probe(base, record_data("p", lambda: [1, 2, 3]))
    assert not match and "int" in why and "float" in why
    match, why = compare_probe(base, record_data("p", lambda: [1.0, 2.5, 3.0]))
    assert not match and "1 of 3" in why and "2.5" in why  # the whole output, not a sample
    assert compare_probe(base, record_data("p", lambda: [1.0, 2.0, 3.0000000001]))[0]


def test_judge_probe_failing_only_in_a_trial_is_unresolved() -> None:
    base = {"name": "p", "status": "ok", "sha256": "a", "dtype": "int64", "shape": [1],
            "values": [1.0]}
    s = Symptom("p", "probe", base)
    assert judge(s, {"probes": {"p": {"status": "failed", "reason": "boom"}}}).outcome == UNRESOLVED
    s.extra["failed_before"] = True
    assert judge(s, {"probes": {"p": {"status": "failed", "reason": "boom"}}}).outcome == PRESENT
    assert judge(s, {"probes": {"p": dict(base)}}).outcome == GONE
    assert judge(s, {}).outcome == UNRESOLVED


def test_judge_benchmark_by_direction() -> None:
    fast = [[1.0, 1.01, 0.99]] * 8
    slow = [[2.0, 2.01, 1.99]] * 8
    s = Symptom("gemm", "benchmark", fast, direction="slower")
    got = judge(s, {"bench": {"gemm": {"candidate": slow}}})
    assert got.outcome == PRESENT and got.ratio and got.ratio > 1.5
    assert judge(s, {"bench": {"gemm": {"candidate": fast}}}).outcome == GONE
    interleaved = {"interleaved": True, "bench": {"gemm": {"candidate": slow, "baseline": slow}}}
    assert judge(s, interleaved).outcome == GONE
    assert judge(s, {"bench": {"gemm": {"candidate": [[1.0]]}}}).outcome == UNRESOLVED


HOSTILE = "evil\x1b[31m|`<b>x</b>\r\nforged"


def _report(text: str = HOSTILE) -> BisectReport:
    return BisectReport(
        baseline=text,
        baseline_id="abc",
        candidate="/venv/bin/python",
        outcome="cause_found",
        symptoms=[
            SymptomReport(
                name=text, kind="probe", status="explained", before=text,
                causes=[CauseSet(keys=[text, "TZ"], interaction=True, restored_with=["scipy"],
                                 after="identical output")],
                not_needed=["numpy"],
            )
        ],
        differences=[DifferenceRow(key=text, category="env", kind="env", baseline=text,
                                   candidate=None, reason="set in the child's environment")],
        trials=[TrialRow(index=1, restored=[text], seconds=0.5, status="ok",
                         outcomes={text: "gone"}, detail=text)],
        budget_seconds=600,
        max_trials=64,
    )


def test_text_escapes_control_characters() -> None:
    out = render(_report(), "text")
    assert "\x1b" not in out and "\r" not in out
    assert "\\x1b[31m" in out
    assert "cause: " in out and "together" in out and "restored with scipy" in out


def test_markdown_escapes_markup_and_pipes() -> None:
    out = render(_report(), "markdown")
    assert "<b>x</b>" not in out and "\x1b" not in out and "\r" not in out
    for line in out.splitlines():
        if line.startswith("| ") and "evil" in line:
            assert line.count("|") == line.count(" | ") + 2  # no pipe from the value
    assert "&lt;b&gt;" in out


def test_json_round_trips_and_is_stable() -> None:
    out = render(_report(), "json")
    assert BisectReport.model_validate(json.loads(out)) == _report()
    assert out == render(_report(), "json")


def test_schema_is_committed_and_fresh() -> None:
    spec = importlib.util.spec_from_file_location(  # type: ignore[attr-defined]
        "gen_schemas", REPO / "scripts" / "gen_schemas.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[attr-defined]
    spec.loader.exec_module(module)
    committed = (REPO / "schemas" / "bisect-report.v1.json").read_text(encoding="utf-8")
    assert committed == module.schemas()["bisect-report.v1.json"]


def test_import_envparity_stays_cheap() -> None:
    import subprocess

    code = (
        "import sys, envparity, envparity.bisect\n"
        "heavy = [m for m in ('pydantic', 'typer', 'numpy', 'sqlalchemy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"




def test_grouped_findings_restore_their_related_variables() -> None:
    # The drift engine's one finding per root cause (thread count, time zone, locale).
    thread = dict(_f("determinism", "OMP_NUM_THREADS", None, "1"),
                  related=["determinism:OPENBLAS_NUM_THREADS", "blas:numpy/blas.num_threads"])
    zone = dict(_f("platform", "timezone", "Europe/Paris", "Asia/Tokyo"),
                related=["env:TZ", "platform:utc_offset_minutes"])
    loc = dict(_f("platform", "locale", "de_DE.UTF-8", "C.UTF-8"), related=["env:LANG"])
    diffs = classify.classify([thread, zone, loc], {"OPENBLAS_NUM_THREADS": "4", "LANG": "de"})
    by_key = {d.key: d for d in diffs}
    assert by_key["OMP_NUM_THREADS"].variables == {"OMP_NUM_THREADS": None,
                                                   "OPENBLAS_NUM_THREADS": "4"}
    assert by_key["TZ"].variables == {"TZ": "Europe/Paris"}  # the variable a person restores
    assert "platform:timezone" in by_key["TZ"].related
    assert by_key["locale"].variables == {"LC_ALL": "de_DE.UTF-8", "LANG": "de"}
    [hash_seed] = classify.classify([_f("determinism", "hash_randomization", False, True)])
    assert hash_seed.variables == {"PYTHONHASHSEED": "0"}
    [incomplete] = classify.classify([dict(_f("package", "numpy", "1", "2"),
                                           change="incomplete")])
    assert incomplete.kind == "untestable"


def test_benchmark_workers_of_both_interpreters_are_interleaved(tmp_path: Path) -> None:
    # The plumbing only (timings on a shared CPU decide nothing here): each side's workers ran,
    # in fresh processes, with the baseline's interpreter and variables on its side.
    overlays = Overlays(sys.executable, root=str(tmp_path / "ov"), cache=str(tmp_path))
    trials = Trials(sys.executable, {}, overlays, bench=["py_loop"],
                    baseline_python=sys.executable, processes=3)
    status, detail, answer, _ = trials.child(frozenset())
    trials.close()
    assert status == "ok", detail
    assert answer["interleaved"] is True
    sides = answer["bench"]["py_loop"]
    assert len(sides["candidate"]) == 3 and len(sides["baseline"]) == 3
    assert all(len(samples) == 3 for samples in sides["candidate"])  # 3 rounds each


def test_a_benchmark_moved_clear_of_its_symptom_is_gone_without_proving_same() -> None:
    # A restoration that brings the time back is seen on a busy machine as "unstable" or
    # "inconclusive" (same needs the whole interval within 5%): its interval clear of the
    # symptom's, on the side of no difference, is enough to call the symptom gone.
    from envparity.bisect.symptom import Judgement, _away_from

    slowdown = Judgement(PRESENT, "slower", 1.95, (1.58, 2.04))
    assert _away_from(slowdown, (0.85, 1.13))
    assert not _away_from(slowdown, (0.85, 1.60))  # overlaps: it may still be there
    assert not _away_from(slowdown, None)
    speedup = Judgement(PRESENT, "faster", 0.5, (0.45, 0.55))
    assert _away_from(speedup, (0.9, 1.2)) and not _away_from(speedup, (0.5, 1.2))


def _prerequisite_report(cause: CauseSet) -> BisectReport:
    return BisectReport(
        baseline="train", baseline_id="abc", candidate="/venv/bin/python",
        outcome="cause_found",
        symptoms=[SymptomReport(
            name="frame", kind="probe", status="explained",
            before="probe frame: 1 of 2 columns differ\n  column 'x': 3 of 5 rows differ",
            causes=[cause],
        )],
        differences=[
            DifferenceRow(key="numpy", category="package", kind="overlay", baseline="1.26.4",
                          candidate="2.2.6", reason="baseline version installed into an overlay"),
            DifferenceRow(key="pandas", category="package", kind="overlay", baseline="2.0.3",
                          candidate="2.2.3", reason="baseline version installed into an overlay"),
        ],
        trials=[TrialRow(index=1, restored=["pandas"], seconds=0.5, status="import_error",
                         outcomes={"frame": "unresolved"},
                         detail="overlay could not import\nnumpy.dtype size changed")],
        budget_seconds=600, max_trials=64,
    )


def test_a_prerequisite_is_worded_as_one_not_as_an_interaction() -> None:
    out = render(_prerequisite_report(
        CauseSet(keys=["pandas"], interaction=False, prerequisites=["numpy"])
    ), "text")
    assert "cause: pandas (restored with numpy 1.26.4, which it needs to import)" in out
    assert "together" not in out


def test_multi_line_evidence_is_lines_not_an_escaped_newline() -> None:
    report = _prerequisite_report(CauseSet(keys=["pandas"], interaction=False))
    for fmt in ("text", "markdown"):
        out = render(report, fmt)
        assert "\\x0a" not in out and "&#10;" not in out
        assert "column 'x': 3 of 5 rows differ" in out
        assert "numpy.dtype size changed" in out


def test_prerequisites_are_the_keys_without_which_the_rest_cannot_import() -> None:
    from envparity.bisect.core import _prerequisites
    from envparity.bisect.trial import IMPORT_ERROR, OK, Trial

    class State:
        cache = {
            frozenset({"pandas"}): Trial(1, ["pandas"], [], 0.1, IMPORT_ERROR, "no numpy", {}),
            frozenset({"numpy"}): Trial(2, ["numpy"], [], 0.1, OK, "", {}),
        }

    assert _prerequisites(frozenset({"numpy", "pandas"}), State()) == {"numpy"}  # type: ignore
    State.cache[frozenset({"pandas"})] = Trial(1, ["pandas"], [], 0.1, OK, "", {})
    assert _prerequisites(frozenset({"numpy", "pandas"}), State()) == set()  # type: ignore
