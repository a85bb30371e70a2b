"""``envparity fleet``: sightings from many processes grouped by environment, counted, compared
with the baseline once per group, worst first."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest
from hook_helpers import CLOSED_PG_URL, envparity_cmd
from typer.testing import CliRunner

from envparity.cli import app
from envparity.errors import BadInput
from envparity.fleet import FleetGroup, FleetView, parse_since
from envparity.model import Snapshot
from envparity.report.fleet import render_fleet

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def fleet(*args: str, env: Dict[str, str]):
    return CliRunner().invoke(app, ["fleet", *args], env=env)


def test_parse_since() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("2026-02-01", NOW) == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert parse_since("2026-02-01T06:00:00Z", NOW) == datetime(2026, 2, 1, 6, tzinfo=timezone.utc)
    with pytest.raises(BadInput, match="--since 'yesterday': expected a duration"):
        parse_since("yesterday", NOW)


def _view() -> FleetView:
    groups = [
        FleetGroup(
            fingerprint="b" * 64,
            sightings=2,
            hosts=1,
            first_seen=NOW,
            last_seen=NOW,
            latest_snapshot_id="2" * 32,
            verdict="error",
            failed=True,
            counts={"error": 1, "warning": 0, "info": 2},
        ),
        FleetGroup(
            fingerprint="a" * 64,
            sightings=40,
            hosts=3,
            first_seen=NOW,
            last_seen=NOW,
            latest_snapshot_id="1" * 32,
            verdict="none",
            failed=False,
            counts={"error": 0, "warning": 0, "info": 0},
        ),
    ]
    return FleetView(environments=2, sightings=42, groups=groups, role="serving")


def test_renderings_name_each_group_and_its_drift() -> None:
    view = _view()
    text = render_fleet(view, "text")
    assert text.splitlines()[0] == (
        "fleet (role serving): 2 environments, 42 sightings; "
        "no baseline given (--baseline REF to compare)"
    )
    assert "error (1 error, 2 info)" in text and "bbbbbbbbbbbb" in text
    markdown = render_fleet(view, "markdown")
    assert "| drift | sightings | hosts |" in markdown
    assert "| error (1 error, 2 info) | 2 | 1 |" in markdown
    page = render_fleet(view, "html")
    assert page.startswith("<!DOCTYPE html>") and '<tr class="error">' in page
    assert FleetView.model_validate_json(render_fleet(view, "json")) == view
    with pytest.raises(BadInput, match="--format 'pdf'"):
        render_fleet(view, "pdf")


def test_fleet_bad_input_is_one_line_and_exit_2(envparity_home: Path) -> None:
    env = {"ENVPARITY_HOME": str(envparity_home)}
    for args, message in (
        (["--since", "yesterday"], "--since 'yesterday'"),
        (["--format", "pdf"], "'--format' / '-f': 'pdf' is not one of"),
        (["--label", "oops"], "--label 'oops'"),
    ):
        result = fleet(*args, env=env)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output


def test_fleet_with_the_database_down_exits_3(envparity_home: Path) -> None:
    result = fleet("--db", CLOSED_PG_URL, env={"ENVPARITY_HOME": str(envparity_home)})
    assert result.exit_code == 3
    assert "127.0.0.1:1" in result.output


def _start(n: int, url: str, hook_env, **env: str) -> List[subprocess.Popen]:
    return [
        subprocess.Popen(
            envparity_cmd("run", "--db", url, "--label", "model=fraud", "--", "true"),
            # Five starts at once on a 2-core runner can outlast the 2 s default budget; this
            # test is about the grouping, so every sighting must reach the store.
            env=hook_env(ENVPARITY_BUDGET_S="60", **env),
            cwd=hook_env()["TMPDIR"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


@pytest.mark.postgres
def test_fleet_groups_sightings_from_many_processes(
    pg_db: str, hook_env, tmp_path: Path
) -> None:
    from envparity.store import open_store

    open_store(pg_db).close()  # migrated once: the hook itself never migrates
    # Two environments: the baseline's (one OpenMP thread) and one with four threads.
    procs = _start(3, pg_db, hook_env, OMP_NUM_THREADS="1")
    procs += _start(2, pg_db, hook_env, OMP_NUM_THREADS="4")
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert '"stored": "store"' in err, err
    baseline = tmp_path / "base.json"
    done = subprocess.run(
        envparity_cmd("snapshot", "--no-store", "-o", str(baseline)),
        env=hook_env(OMP_NUM_THREADS="1"),
        cwd=hook_env()["TMPDIR"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    base = Snapshot.model_validate_json(baseline.read_text())
    # Two more hosts of the baseline's environment, and one sighting long ago.
    with open_store(pg_db) as store:
        for host, when in (("web-2", None), ("web-3", None), ("web-9", timedelta(days=3))):
            store.save(
                base.model_copy(
                    update={
                        "snapshot_id": uuid.uuid4().hex,
                        "role": "serving",
                        "labels": {"model": "fraud"},
                        "platform": base.platform.model_copy(update={"hostname": host}),
                        "captured_at": datetime.now(timezone.utc) - (when or timedelta()),
                    }
                )
            )
    env = {"ENVPARITY_DB_URL": pg_db}
    result = fleet(
        "--baseline",
        str(baseline),
        "--role",
        "serving",
        "--label",
        "model=fraud",
        "--since",
        "24h",
        "--format",
        "json",
        env=env,
    )
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert (view["environments"], view["sightings"]) == (2, 7)
    drifted, same = view["groups"]  # worst first
    assert drifted["verdict"] in ("info", "warning", "error") and drifted["sightings"] == 2
    assert drifted["hosts"] == 1 and sum(drifted["counts"].values()) >= 1
    assert same["fingerprint"] == base.fingerprint
    assert (same["verdict"], same["sightings"], same["hosts"]) == ("none", 5, 3)

    everything = fleet("--format", "json", env=env)
    assert json.loads(everything.stdout)["sightings"] == 8  # the old one, and no baseline
    assert json.loads(everything.stdout)["groups"][0]["verdict"] is None

    text = fleet("--baseline", str(baseline), "--since", "24h", env=env)
    assert text.exit_code == 0 and "2 environments, 7 sightings" in text.stdout
