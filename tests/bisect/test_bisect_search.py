"""``bisect()`` in-process over real child processes of this interpreter, with N variables that
differ (``HF_BISECT_*``, allowlisted, so the drift has them): trial counts, the budget limits."""

from __future__ import annotations

import html
import math
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

from envparity.bisect.core import bisect
from envparity.bisect.overlay import Overlays
from envparity.bisect.symptom import numeric_results
from envparity.bisect.trial import Trials
from envparity.collect.capture import capture
from envparity.model import Snapshot

PROBE = """
import os, envparity
envparity.register_probe("reads", lambda _: [len(os.environ.get({name!r}, ""))], None)
"""


@pytest.fixture
def probe_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield tmp_path


def _world(
    monkeypatch: pytest.MonkeyPatch, where: Path, n: int, cause: int, module: str
) -> Snapshot:
    names = [f"HF_BISECT_{i:02d}" for i in range(n)]
    (where / f"{module}.py").write_text(PROBE.format(name=names[cause]))
    for name in names:
        monkeypatch.delenv(name, raising=False)
    baseline = capture()
    trials = Trials(sys.executable, {}, Overlays(sys.executable), probes=[module])
    status, detail, answer, _ = trials.child(frozenset())
    trials.close()
    assert status == "ok", detail
    numerics = numeric_results(answer["probes"])
    for name in names:
        monkeypatch.setenv(name, "set")
    return baseline.model_copy(update={"numerics": numerics})


def _keys(report) -> List[List[str]]:
    return [c.keys for c in report.symptoms[0].causes]


def test_one_cause_among_16_costs_logarithmic_trials(probe_dir, monkeypatch) -> None:
    baseline = _world(monkeypatch, probe_dir, 16, 11, "reads16")
    report = bisect(baseline, probes=["reads16"])
    assert report.outcome == "cause_found"
    assert _keys(report) == [["HF_BISECT_11"]]
    assert len(report.symptoms[0].not_needed) == 15
    # the candidate, everything restored, ddmin's two per halving, one to rule out another
    assert len(report.trials) <= 2 + 2 * math.ceil(math.log2(16)) + 1


def test_max_trials_stops_the_search_and_says_so(probe_dir, monkeypatch) -> None:
    baseline = _world(monkeypatch, probe_dir, 16, 5, "reads_stop")
    report = bisect(baseline, probes=["reads_stop"], max_trials=4)
    assert len(report.trials) == 4
    assert report.stopped == "--max-trials 4 reached"
    [cause] = report.symptoms[0].causes
    assert not cause.minimal and "HF_BISECT_05" in cause.keys and len(cause.keys) < 16
    assert "stopped early" in report.symptoms[0].note


def test_budget_spent_stops_the_search(probe_dir, monkeypatch) -> None:
    baseline = _world(monkeypatch, probe_dir, 8, 2, "reads_budget")
    report = bisect(baseline, probes=["reads_budget"], budget=0.01)
    assert report.stopped == "--budget spent"
    # the candidate and the all-restored trial always run: the symptom was established
    assert len(report.trials) == 2
    assert report.symptoms[0].status == "explained"
    assert not report.symptoms[0].causes[0].minimal


def test_each_trial_gets_its_share_of_the_remaining_budget(probe_dir, monkeypatch) -> None:
    baseline = _world(monkeypatch, probe_dir, 16, 3, "reads_share")
    shares: List[float] = []
    real = Trials.child

    def spy(self, keys, **extra):
        shares.append(self.timeout())
        return real(self, keys, **extra)

    monkeypatch.setattr(Trials, "child", spy)
    report = bisect(baseline, probes=["reads_share"], budget=1000)
    assert report.outcome == "cause_found"
    # 1000 s over the trials ddmin may still need (2*log2(16)+1 = 9, plus the first two)
    assert 1000 / 12 <= shares[0] <= 1000 / 8
    assert all(s >= 30 for s in shares)
    assert shares[-1] > shares[0]  # fewer trials left to share the rest
    short = bisect(baseline, probes=["reads_share"], budget=40)
    assert short.trials and min(shares[-len(short.trials):]) >= 30  # never under 30 s


def test_hash_seed_is_named(probe_dir, monkeypatch) -> None:
    (probe_dir / "hashprobe.py").write_text(
        "import envparity\n"
        "envparity.register_probe('hash', lambda _: [hash('envparity') % 100003], None)\n"
    )
    # The hash seed recorded is the one this interpreter started with, never a later os.environ
    # value: the baseline is a process started with 12345 (its probe ran in such a child).
    seed = "12345"
    monkeypatch.setenv("PYTHONHASHSEED", seed)
    for i in range(4):
        monkeypatch.delenv(f"HF_BISECT_{i:02d}", raising=False)
    baseline = capture()
    if baseline.determinism.hash_seed == seed:
        pytest.skip("the test runner itself was started with PYTHONHASHSEED=12345")
    trials = Trials(sys.executable, {}, Overlays(sys.executable), probes=["hashprobe"])
    _, _, answer, _ = trials.child(frozenset())
    trials.close()
    determinism = baseline.determinism.model_copy(update={"hash_seed": seed})
    baseline = baseline.model_copy(
        update={"numerics": numeric_results(answer["probes"]), "determinism": determinism}
    ).with_fingerprint()
    monkeypatch.setenv("PYTHONHASHSEED", "1")
    for i in range(4):
        monkeypatch.setenv(f"HF_BISECT_{i:02d}", "set")
    report = bisect(baseline, probes=["hashprobe"])
    assert report.outcome == "cause_found", report
    assert _keys(report) == [["PYTHONHASHSEED"]]
    assert len(report.symptoms[0].not_needed) == 4


def test_cli_writes_the_report_and_exits_0(probe_dir, monkeypatch) -> None:
    from typer.testing import CliRunner

    from envparity.cli import app

    baseline = _world(monkeypatch, probe_dir, 4, 1, "reads_cli")
    path = probe_dir / "base.json"
    path.write_text(baseline.model_dump_json())
    out = probe_dir / "report.md"
    result = CliRunner().invoke(
        app, ["bisect", str(path), "--probes", "reads_cli", "--format", "markdown", "-o",
              str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "cause found" in result.stderr and str(out) in result.stderr
    text = out.read_text()
    # Markdown escapes the data's `_` (emphasis syntax) as an entity; rendered, it reads the same.
    assert text.startswith("**envparity bisect: cause found")
    assert "HF_BISECT_01" in html.unescape(text)
    result = CliRunner().invoke(app, ["bisect", str(path), "--probes", "reads_cli", "--json"])
    assert result.exit_code == 0
    assert '"outcome": "cause_found"' in result.stdout
