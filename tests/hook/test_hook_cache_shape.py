"""A cached baseline is checked against the snapshot's JSON shape (envparity.shapecheck, generated
from the models) before the drift engine sees it: a copy with the right ids but a wrongly typed
field is as good as no copy, and the hook's log says which file and which field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hook_helpers import CLOSED_PG_URL, envparity_cmd, log_record

from envparity.hook import cache
from envparity.model import Snapshot

REF = "fraud-train"


def _bad(data: Dict[str, Any]) -> Dict[str, Any]:
    """``data`` with its ids intact and one field of the wrong type."""
    return dict(data, cpu=dict(data["cpu"], flags="avx2 avx512f"))


def test_a_wrongly_typed_cached_baseline_is_passed_over_and_named(
    hook_env, write_baseline
) -> None:
    env = hook_env()
    good = json.loads(write_baseline().read_text())
    path = cache.remember(REF, CLOSED_PG_URL, _bad(good), env)
    assert path is not None
    problems: List[str] = []
    assert cache.recall_data(REF, CLOSED_PG_URL, env, problems) is None
    assert problems == [f"cached baseline {path} ignored: cpu.flags: expected a list"]
    assert cache.recall(REF, CLOSED_PG_URL, env) is None
    # An older copy of the right shape (where a start could not write the newer one) still serves.
    older = Path(path).with_name(Path(path).name.split("-")[0] + "-" + "0" * 32 + ".json")
    older.write_text(json.dumps(dict(good, snapshot_id="0" * 32)))
    os.utime(older, (time.time() - 60, time.time() - 60))
    problems = []
    found = cache.recall_data(REF, CLOSED_PG_URL, env, problems)
    assert found is not None and found["snapshot_id"] == "0" * 32
    assert len(problems) == 1 and "cpu.flags: expected a list" in problems[0]
    assert Snapshot.model_validate(found).snapshot_id == "0" * 32


def test_a_passed_over_copy_is_written_again_when_the_baseline_is_remembered(
    hook_env, write_baseline
) -> None:
    """The copy is named by the baseline's snapshot id, so an unchanged baseline writes nothing;
    a copy of that name that recall passes over (damaged, wrong shape) must not stay for ever."""
    env = hook_env()
    good = json.loads(write_baseline().read_text())
    path = cache.remember(REF, CLOSED_PG_URL, _bad(good), env)
    assert path is not None and cache.recall_data(REF, CLOSED_PG_URL, env) is None
    assert cache.remember(REF, CLOSED_PG_URL, good, env) == path
    found = cache.recall_data(REF, CLOSED_PG_URL, env)
    assert found is not None and found["cpu"]["flags"] == good["cpu"]["flags"]
    Path(path).write_text('{"snapshot_id": "truncat')  # a copy cut short by a full disk
    assert cache.remember(REF, CLOSED_PG_URL, good, env) == path
    assert cache.recall_data(REF, CLOSED_PG_URL, env) == found
    # A good copy is left as it is: an unchanged baseline writes nothing.
    before = os.stat(path).st_mtime_ns
    assert cache.remember(REF, CLOSED_PG_URL, good, env) == path
    assert os.stat(path).st_mtime_ns == before


def test_a_cache_file_without_ids_stays_silent_as_before(hook_env) -> None:
    env = hook_env()
    path = cache.remember(REF, None, {"snapshot_id": "a" * 32, "fingerprint": ""}, env)
    assert path is not None
    problems: List[str] = []
    assert cache.recall_data(REF, None, env, problems) is None
    assert problems == []


@pytest.mark.parametrize("defer", ["0", "1"])
def test_the_hook_treats_a_wrongly_typed_cache_as_missing_and_logs_it(
    hook_env, write_baseline, defer: str
) -> None:
    """With the database down: a good copy is compared with; the same file with a field of the
    wrong type is no baseline (as without a cache), one problem line naming the field, and the
    server still starts."""
    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL, ENVPARITY_BASELINE=REF, ENVPARITY_DEFER=defer)
    good = json.loads(write_baseline(drift=True).read_text())
    path = cache.remember(REF, CLOSED_PG_URL, good, env)
    assert path is not None

    def start() -> Dict[str, Any]:
        done = subprocess.run(
            envparity_cmd("run", "--", sys.executable, "-c", "print('up')"),
            env=env, cwd=env["TMPDIR"], capture_output=True, text=True, timeout=60,
        )
        assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
        return dict(log_record(done.stderr))

    record = start()
    assert (record["baseline_source"], record["verdict"]) == ("cache", "error"), record
    Path(path).write_text(json.dumps(_bad(good)))
    record = start()
    assert (record["baseline_source"], record["verdict"]) == (None, None), record
    problems = [str(p) for p in record["problems"]]  # type: ignore[union-attr]
    assert f"cached baseline {path} ignored: cpu.flags: expected a list" in problems, problems
    # ... and then what a start without a cache says.
    assert any("not cached yet" in p or "not in the local cache" in p for p in problems), problems
