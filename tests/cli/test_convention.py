"""One CLI convention: --format everywhere (--json an alias), choices refused in one line,
ENVPARITY_* honoured, the policy found upward, one way to count, --quiet/--verbose, "nothing
matches" told from "nothing stored", and tables that hold long and hostile values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envparity.cli import app
from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _snap(i: int, numpy: str = "1.26.4", role: str = "serving", **labels: str) -> Snapshot:
    return Snapshot(
        snapshot_id=f"{i:032x}",
        captured_at=NOW - timedelta(minutes=i),
        role=role,
        labels=labels,
        packages=[Package(name="numpy", version=numpy), Package(name="six", version="1.0")],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(hostname=f"host-{i}", timezone="UTC"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


@pytest.fixture
def files(tmp_path: Path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_snap(1, "1.26.4").model_dump_json())
    b.write_text(_snap(2, "2.3.5").model_dump_json())  # a major version: error
    return a, b


def invoke(*args: str, env=None, **kwargs):
    env = {"ENVPARITY_FAIL_ON": "", "ENVPARITY_POLICY": "", "ENVPARITY_DB_URL": "", **(env or {})}
    env = {k: v for k, v in env.items() if v != ""}
    return CliRunner().invoke(app, list(args), env=env, **kwargs)


def test_json_is_an_alias_of_format_json(files, tmp_path):
    a, b = files
    by_format = invoke("diff", str(a), str(b), "--format", "json")
    by_alias = invoke("diff", str(a), str(b), "--json")
    assert by_format.exit_code == by_alias.exit_code == 1
    assert json.loads(by_format.stdout) == json.loads(by_alias.stdout)
    db = f"sqlite:///{tmp_path / 's.db'}"
    for args in (["list"], ["db", "info"], ["db", "current"]):
        one = invoke(*args, "--db", db, "--json")
        two = invoke(*args, "--db", db, "--format", "json")
        assert one.exit_code == two.exit_code == 0, one.output
        assert json.loads(one.stdout) == json.loads(two.stdout) or args != ["list"]


@pytest.mark.parametrize(
    "args,option",
    [
        (["diff", "a.json", "b.json", "--format", "xml"], "'--format'"),
        (["diff", "a.json", "b.json", "--fail-on", "sometimes"], "'--fail-on'"),
        (["fleet", "--format", "pdf"], "'--format'"),
        (["export", "a.json", "--format", "poetry"], "'--format'"),
        (["bench", "--suite", "huge"], "'--suite'"),
        (["list", "--format", "yaml"], "'--format'"),
        (["schema", "nope"], "'name'"),
    ],
)
def test_a_bad_choice_is_one_line_and_exit_2(args, option):
    result = invoke(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("envparity: error: "), lines
    assert option in lines[0] and "--help" in lines[0]


def test_envparity_variables_are_honoured_by_diff(files, tmp_path):
    a, b = files
    assert invoke("diff", str(a), str(b)).exit_code == 1
    assert invoke("diff", str(a), str(b), env={"ENVPARITY_FAIL_ON": "never"}).exit_code == 0
    policy = tmp_path / "policy.toml"
    policy.write_text('fail_on = "never"\n')
    assert invoke("diff", str(a), str(b), env={"ENVPARITY_POLICY": str(policy)}).exit_code == 0
    bad = invoke("diff", str(a), str(b), env={"ENVPARITY_FAIL_ON": "maybe"})
    assert bad.exit_code == 2 and "ENVPARITY_FAIL_ON" in bad.stderr


def test_envparity_db_url_and_baseline_are_honoured(tmp_path):
    db = f"sqlite:///{tmp_path / 'env.db'}"
    from envparity.store import open_store

    with open_store(db) as store:
        store.save(_snap(1))
        store.tag(_snap(1).snapshot_id, "fraud-train")
    listed = invoke("list", "--json", env={"ENVPARITY_DB_URL": db})
    assert [r["snapshot_id"] for r in json.loads(listed.stdout)] == [_snap(1).snapshot_id]
    fleet = invoke("fleet", "--json", env={"ENVPARITY_DB_URL": db,
                                            "ENVPARITY_BASELINE": "fraud-train"})
    assert json.loads(fleet.stdout)["baseline"]["ref"] == "fraud-train"


def test_policy_is_found_in_the_nearest_pyproject_upward(files, tmp_path, monkeypatch):
    a, b = files
    project = tmp_path / "project"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.envparity]\nfail_on = "never"\n')
    (project / "src" / "pyproject.toml").write_text("[project]\nname = 'no-policy-here'\n")
    for where in (project, deep):
        monkeypatch.chdir(where)
        assert invoke("diff", str(a), str(b)).exit_code == 0, where
    monkeypatch.chdir(tmp_path)
    assert invoke("diff", str(a), str(b)).exit_code == 1


def test_counts_are_pluralised_the_same_everywhere(tmp_path):
    from envparity.fleet import FleetGroup, FleetView
    from envparity.hook.check import Outcome  # noqa: F401 - the hook's summary uses wording too
    from envparity.report.fleet import render_fleet
    from envparity.wording import count, severity_counts

    assert severity_counts({"error": 1, "warning": 4, "info": 2}) == "1 error, 4 warnings, 2 info"
    assert count(1, "sighting") == "1 sighting" and count(0, "snapshot") == "0 snapshots"
    group = FleetGroup(fingerprint="a" * 64, sightings=1, hosts=1, first_seen=NOW,
                       last_seen=NOW, latest_snapshot_id="1" * 32, verdict="error",
                       failed=True, counts={"error": 1, "warning": 4, "info": 0})
    text = render_fleet(FleetView(environments=1, sightings=1, groups=[group]), "text")
    assert "error (1 error, 4 warnings)" in text
    assert "1 environment, 1 sighting" in text


def test_nothing_matches_is_told_from_nothing_stored(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    empty = invoke("list", "--role", "nope", "--db", db)
    assert empty.exit_code == 0 and "no snapshots stored yet" in empty.stderr
    from envparity.store import open_store

    with open_store(db) as store:
        store.save(_snap(1))
    none = invoke("list", "--role", "nope", "--db", db)
    assert none.exit_code == 0
    assert "no stored snapshot matches --role nope" in none.stderr
    assert "stored yet" not in none.stderr


def test_list_columns_hold_long_roles_and_print_markup_literally(tmp_path):
    db = f"sqlite:///{tmp_path / 't.db'}"
    from envparity.store import open_store

    long_role = "batch-scoring-" + "x" * 40
    with open_store(db) as store:
        store.save(_snap(1, role=long_role, team="[bold]red[/bold]"))
        store.save(_snap(2, role="ci"))
    result = invoke("list", "--db", db)
    lines = result.stdout.splitlines()
    assert "[bold]red[/bold]" in result.stdout  # markup is data, printed as written
    header, first, second = lines
    # Every column starts at the same offset on every line, whatever the role's length.
    for column in ("FINGERPRINT", "PYTHON", "HOST"):
        offset = header.index(column)
        assert first[offset - 2 : offset] == "  " and second[offset - 2 : offset] == "  "
    assert first.index("3.11.7") == second.index("3.11.7") == header.index("PYTHON")


def test_quiet_and_verbose(files, tmp_path):
    a, b = files
    out = tmp_path / "report.md"
    loud = invoke("diff", str(a), str(b), "-f", "markdown", "-o", str(out))
    assert "report written to" in loud.stderr
    quiet = invoke("--quiet", "diff", str(a), str(b), "-f", "markdown", "-o", str(out))
    assert quiet.exit_code == 1 and quiet.stderr == ""
    envparity_too = _snap(3).model_copy(
        update={"packages": [*_snap(3).packages, Package(name="envparity", version="0.1.0")]}
    )
    c = tmp_path / "c.json"
    c.write_text(envparity_too.model_dump_json())
    verbose = invoke("--verbose", "export", str(c))
    assert "left out envparity's own: envparity" in verbose.stderr
    assert "left out" not in invoke("export", str(c)).stderr
    both = invoke("--quiet", "--verbose", "list")
    assert both.exit_code == 2


def test_shell_completion_is_on():
    result = invoke("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_check_takes_its_baseline_from_envparity_baseline(files, tmp_path):
    a, _ = files
    result = invoke("check", "--format", "json",
                    env={"ENVPARITY_BASELINE": str(a), "ENVPARITY_HOME": str(tmp_path / "h")})
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["baseline"]["ref"] == str(a)
    missing = invoke("check", env={"ENVPARITY_HOME": str(tmp_path / "h")})
    assert missing.exit_code == 2 and "--baseline" in missing.stderr
