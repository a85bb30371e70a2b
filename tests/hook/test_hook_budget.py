"""Past the budget, the hook's log names exactly what was kept.

The check runs in a thread the hook waits on for ``--budget`` seconds; then it spools what was
captured and `exec`s the server. A snapshot the thread published after that (between the spool
and the log line, a window a load of 14 widened enough for 6 of 500 starts in
scripts/bench_burst.py) was named in the log and lost at `exec`. The thread now publishes nothing
once the budget has closed the check.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from envparity.hook.check import check
from envparity.hook.config import load_config
from envparity.hook.outcome import Outcome


def test_an_outcome_closed_by_the_budget_takes_no_snapshot(tmp_path: Path) -> None:
    config, _ = load_config({"ENVPARITY_HOME": str(tmp_path)})
    outcome = Outcome(config)
    assert outcome.publish({"snapshot_id": "a" * 32}) is True
    with outcome.lock:
        outcome.closed = True
    assert outcome.publish({"snapshot_id": "b" * 32}) is False
    assert outcome.data == {"snapshot_id": "a" * 32}


def test_a_capture_that_finishes_after_the_budget_is_neither_logged_nor_half_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envparity.collect.capture as capture

    release = threading.Event()
    real = capture.collect_data

    def held(**kw):  # the capture of a start on a machine too loaded to finish in the budget
        release.wait(60)
        return real(**kw)

    monkeypatch.setattr(capture, "collect_data", held)
    spool = tmp_path / "spool"
    env = {"ENVPARITY_HOME": str(tmp_path), "ENVPARITY_SPOOL_DIR": str(spool)}
    env["PATH"] = os.environ.get("PATH", "")
    config, problems = load_config(env, budget_s="0.2", db_url=f"sqlite:///{tmp_path}/s.db")
    outcome = check(config, env, problems, defer=True)
    assert outcome.timed_out and outcome.data is None
    release.set()  # the capture finishes now, after the budget
    for thread in threading.enumerate():
        if thread.name == "envparity-startup-check":
            thread.join(60)
    assert outcome.data is None
    record = outcome.record("starting server")
    assert record["snapshot_id"] is None and record["stored"] == "none", record
    assert not spool.exists() or not list(spool.iterdir())
    assert any("budget" in p for p in record["problems"]), record["problems"]
