"""The lean start-up path: capture, store to SQLite, resolve the baseline (from the store or the
local cache), read the policy and compare, with no pydantic, Typer, SQLAlchemy or Rich import;
its rows are the ones Store.save writes, and its report is the one ``envparity.compare`` makes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest
from _support import importtime_split
from hook_helpers import CLOSED_PG_URL, envparity_cmd, log_record

HEAVY = ("pydantic", "typer", "click", "sqlalchemy", "rich", "alembic")

# A policy that changes the report: ignores a package, re-grades others, fails on warnings.
PYPROJECT = """\
[tool.envparity]
fail_on = "warning"
ignore = ["package:envparity-ignored"]

[tool.envparity.severity]
"package:envparity-regraded" = "info"
python = "ignore"
"""

PROBE = """
import json, sys
import envparity
ref = sys.argv[1] or None
from envparity.hook.check import _work, Outcome
from envparity.hook.config import load_config
import os
config, _ = load_config(os.environ, baseline=ref, **json.loads(sys.argv[3]))
outcome = Outcome(config)
_work(outcome, os.environ)
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2].split(',')))
print(json.dumps({"stored": outcome.stored, "source": outcome.baseline_source,
                  "problems": outcome.problems, "heavy": heavy, "report": outcome.report,
                  "data": outcome.data}))
"""


def _probe(env: Dict[str, str], ref: str, heavy=HEAVY, **options: str) -> Dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ref, ",".join(heavy), json.dumps(options)],
        env=env,
        cwd=env["TMPDIR"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _drifted(base: Any) -> Any:
    """``base`` with package drift the policy acts on, a Python patch release and a new id."""
    from envparity.model import Package

    victim = next(
        p for p in base.packages if not p.tool and p.version.split(".")[0].isdigit()
        and int(p.version.split(".")[0])
    )  # at 1.x or later, so 0.0.1 is a major version behind
    extra = [
        Package(name="envparity-ignored", version="1.0", installer="pip", location="/x"),
        Package(name="envparity-regraded", version="1.0", installer="pip", location="/x"),
        Package(name="envparity-kept", version="1.0", installer="pip", location="/x"),
    ]
    packages = [
        p.model_copy(update={"version": "0.0.1"}) if p.name == victim.name else p
        for p in base.packages
    ] + extra
    major, minor, _ = base.python.version.split(".", 2)
    python = base.python.model_copy(update={"version": f"{major}.{minor}.9999"})
    return base.model_copy(
        update={"packages": packages, "python": python, "snapshot_id": uuid.uuid4().hex}
    ).with_fingerprint()


def _tagged_store(env: Dict[str, str], url: str = "") -> Any:
    """A store with a drifted baseline tagged ``fraud-train``; the baseline."""
    import envparity
    from envparity.store import open_store

    with open_store(url or f"sqlite:///{env['ENVPARITY_HOME']}/envparity.db") as store:
        # Without the in-process relevance record (issue 24): the drifted packages are invented,
        # never loaded, and would be judged as unused; this test is about the policy.
        base = _drifted(envparity.snapshot(role="training").model_copy(update={"relevance": None}))
        store.save(base)
        store.tag(base.snapshot_id, "fraud-train")
    return base


def test_capture_store_and_baseline_read_import_nothing_heavy(hook_env, tmp_path: Path) -> None:
    env = hook_env()
    _tagged_store(env)
    plain = _probe(env, "")
    assert {k: plain[k] for k in ("stored", "source", "problems", "heavy", "report")} == {
        "stored": "store", "source": None, "problems": [], "heavy": [], "report": None
    }
    # With a baseline tag and a policy in pyproject.toml: resolved, read and compared on plain
    # data, still nothing heavy imported.
    (Path(env["TMPDIR"]) / "pyproject.toml").write_text(PYPROJECT)
    tagged = _probe(env, "fraud-train")
    assert tagged["stored"] == "store" and tagged["source"] == "store", tagged
    assert tagged["problems"] == [] and tagged["heavy"] == [], tagged
    report = tagged["report"]
    assert (report["verdict"], report["fail_on"], report["failed"]) == ("error", "warning", True)


def test_a_cached_baseline_with_the_database_down_imports_nothing_heavy(hook_env) -> None:
    from envparity.hook import cache

    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL)
    import envparity

    base = _drifted(envparity.snapshot(role="training"))
    assert cache.remember("fraud-train", CLOSED_PG_URL, base, env)
    (Path(env["TMPDIR"]) / "pyproject.toml").write_text(PYPROJECT)
    # A refused port is known from one TCP connect: not even the PostgreSQL driver is imported.
    out = _probe(env, "fraud-train", heavy=HEAVY + ("psycopg",), fail_on="never")
    assert (out["stored"], out["source"], out["heavy"]) == ("spool", "cache", []), out
    report = out["report"]
    assert (report["verdict"], report["fail_on"], report["failed"]) == ("error", "never", False)
    assert report["baseline"]["snapshot_id"] == base.snapshot_id


@pytest.mark.parametrize("fail_on", [None, "info"])
def test_the_hook_report_is_the_one_diff_makes(hook_env, fail_on) -> None:
    """The plain path (drift engine + drift.policy.Rules) and the pydantic path (diff + Policy)
    give the same report for the same pair and policy."""
    from envparity.collect.capture import to_snapshot
    from envparity.comparison import compare as diff
    from envparity.model import DriftReport
    from envparity.policy import load_policy

    env = hook_env()
    base = _tagged_store(env)
    (Path(env["TMPDIR"]) / "pyproject.toml").write_text(PYPROJECT)
    out = _probe(env, "fraud-train", **({"fail_on": fail_on} if fail_on else {}))
    assert out["source"] == "store" and out["problems"] == [], out
    policy = load_policy(cwd=env["TMPDIR"])
    if fail_on:
        policy = policy.model_copy(update={"fail_on": fail_on})
    cand = to_snapshot(out["data"])
    expected = diff(
        base, cand, policy, baseline_ref="fraud-train", candidate_ref=cand.snapshot_id
    )
    assert DriftReport.model_validate(out["report"]) == expected
    # The same JSON but for the defaults the plain engine leaves out (a finding's empty related,
    # members and waived).
    want = expected.model_dump(mode="json")
    defaults = (("related", []), ("members", []), ("waived", None))
    want["findings"] = [
        {k: v for k, v in f.items() if (k, v) not in defaults} for f in want["findings"]
    ]
    assert out["report"] == want
    # The policy made a difference that both paths applied alike.
    keys = {f"{f['category']}:{f['key']}": f["severity"] for f in out["report"]["findings"]}
    assert "package:envparity-ignored" not in keys and "python:version" not in keys
    assert (keys["package:envparity-regraded"], keys["package:envparity-kept"]) == (
        "info", "error"
    )
    assert diff(base, cand) != expected


STARTUP_CHECK = """
import json, sys
import envparity

class Log:
    heavy = None
    def write(self, text):
        if Log.heavy is None:  # the summary line: the check is done, the report not yet built
            Log.heavy = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2].split(',')))
    def flush(self):
        pass

report = envparity.startup_check(baseline=sys.argv[1], stream=Log())
print(json.dumps({"heavy": Log.heavy, "type": type(report).__name__, "verdict": report.verdict,
                  "failed": report.failed}))
"""


def test_startup_check_compares_lean_and_returns_a_drift_report(hook_env) -> None:
    env = hook_env()
    _tagged_store(env)
    (Path(env["TMPDIR"]) / "pyproject.toml").write_text(PYPROJECT)
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_CHECK, "fraud-train", ",".join(HEAVY)],
        env=env, cwd=env["TMPDIR"], capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out == {"heavy": [], "type": "DriftReport", "verdict": "error", "failed": True}


def test_envparity_run_with_a_baseline_tag_imports_nothing_heavy(hook_env) -> None:
    """The whole `envparity run` command line, up to the exec: -X importtime lists every
    module imported before the process is replaced."""
    env = hook_env()
    _tagged_store(env)
    (Path(env["TMPDIR"]) / "pyproject.toml").write_text(PYPROJECT)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *envparity_cmd("run", "--baseline", "fraud-train",
         "--", sys.executable, "-c", "print('up')")[1:]],
        env=env, cwd=env["TMPDIR"], capture_output=True, text=True, timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    record = log_record(done.stderr)
    assert (record["baseline_source"], record["stored"], record["verdict"]) == (
        "store", "store", "error"
    ), record
    imported, _ = importtime_split(done.stderr)
    assert "envparity" in imported and not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_the_plain_rows_are_the_rows_store_save_writes(tmp_path: Path) -> None:
    from envparity.collect.capture import collect_data, to_snapshot
    from envparity.store.rows import rows, rows_from_data

    data = collect_data(role="serving", labels={"model": "fraud"})
    plain, model = rows_from_data(data), rows(to_snapshot(data))
    written_at = ("stored_at", "created_at")
    assert plain.fingerprint == model.fingerprint == data["fingerprint"]
    assert plain.packages == model.packages
    assert {k: v for k, v in plain.environment.items() if k not in written_at} == {
        k: v for k, v in model.environment.items() if k not in written_at
    }
    assert {k: v for k, v in plain.sighting.items() if k not in written_at} == {
        k: v for k, v in model.sighting.items() if k not in written_at
    }


def test_the_cli_run_stores_and_starts(hook_env) -> None:
    env = hook_env()
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--budget", "15", "--", sys.executable, "-c",
         "print('up')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    assert log_record(done.stderr)["stored"] == "store"


@pytest.mark.postgres
def test_a_healthy_postgresql_is_used_without_sqlalchemy(pg_db: str, hook_env) -> None:
    import envparity
    from envparity.store import open_store

    with open_store(pg_db) as store:  # migrated here: the hook never migrates PostgreSQL
        base = envparity.snapshot(role="training")
        store.save(base)
        store.tag(base.snapshot_id, "fraud-train")
    # What is checked is the path taken, not its speed: at load 15 the default 2 s budget spooled.
    env = hook_env(ENVPARITY_DB_URL=pg_db, ENVPARITY_BUDGET_S="600")
    plain = _probe(env, "")
    assert (plain["stored"], plain["problems"], plain["heavy"]) == ("store", [], []), plain
    tagged = _probe(env, "fraud-train")
    assert tagged["stored"] == "store" and tagged["source"] == "store", tagged
    assert tagged["heavy"] == [] and tagged["report"] is not None, tagged
