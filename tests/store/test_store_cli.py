"""The store's commands through Typer's CliRunner, plus real child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_fixtures import make_snapshot
from typer.testing import CliRunner

from envparity.cli import app
from envparity.store import open_store
from envparity.store.migrate import HEAD


def _env(home: Path, **extra: str) -> dict:
    return {"ENVPARITY_HOME": str(home), "ENVPARITY_DB_URL": "", **extra}


def invoke(home: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=_env(home, **extra))


def test_snapshot_stores_by_default_and_says_where(envparity_home: Path) -> None:
    result = invoke(envparity_home, "snapshot", "--role", "training", "--label", "model=fraud")
    assert result.exit_code == 0, result.output
    db = envparity_home / "envparity.db"
    assert f"stored in sqlite:///{db}" in result.stderr
    listed = invoke(envparity_home, "list", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["role"], r["labels"]) for r in rows] == [("training", {"model": "fraud"})]
    info = invoke(envparity_home, "db", "info")
    assert f"path       {db}" in info.stdout and "1 snapshot of 1 environment" in info.stdout


def test_no_store_touches_no_database(envparity_home: Path) -> None:
    result = invoke(envparity_home, "snapshot", "--no-store")
    assert result.exit_code == 0, result.output
    assert "stored in" not in result.stderr
    assert not (envparity_home / "envparity.db").exists()


def test_list_show_and_tag(envparity_home: Path) -> None:
    a = make_snapshot(seq=1, role="training")
    b = make_snapshot(seq=2, role="serving", labels={"model": "fraud"})
    with open_store() as store:
        store.save(a)
        store.save(b)
    listed = invoke(envparity_home, "list", "--role", "serving")
    assert listed.exit_code == 0
    assert b.snapshot_id[:12] in listed.stdout and a.snapshot_id[:12] not in listed.stdout
    assert len(json.loads(invoke(envparity_home, "list", "--limit", "1", "--json").stdout)) == 1
    shown = invoke(envparity_home, "show", a.snapshot_id[:8], "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["snapshot_id"] == a.snapshot_id
    text = invoke(envparity_home, "show", "latest:role=serving,model=fraud").stdout
    assert f"fingerprint  {b.fingerprint}" in text and "pkg000==1.0.0" in text
    assert invoke(envparity_home, "tag", "latest:role=training", "fraud-train").exit_code == 0
    assert invoke(envparity_home, "tag", b.snapshot_id, "fraud-train").exit_code == 0
    history = invoke(envparity_home, "tag", "--history", "fraud-train").stdout.splitlines()
    assert len(history) == 2
    assert f"-> {b.snapshot_id[:12]} (was {a.snapshot_id[:12]})" in history[0]
    resolved = json.loads(invoke(envparity_home, "show", "fraud-train", "--json").stdout)
    assert resolved["snapshot_id"] == b.snapshot_id
    assert invoke(envparity_home, "db", "current").stdout.startswith(f"{HEAD} (current")
    assert invoke(envparity_home, "tag", "fraud-train").exit_code == 2


def _one_error_line(result, code: int) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return str(lines[0])


@pytest.mark.parametrize(
    "url, expect",
    [
        ("postgresql+psycopg://fleet:s3cretpw@127.0.0.1:1/envparity", "***@127.0.0.1:1"),
        ("postgres://fleet:s3cretpw@127.0.0.1:1/envparity", "Connection refused"),
        ("mysql://fleet:s3cretpw@db/envparity", "mysql is not supported"),
        ("not a url s3cretpw", "not a URL envparity understands"),
        ("sqlite:////nonexistent-dir/x.db", "does not exist"),
    ],
)
def test_a_bad_database_url_is_one_redacted_line_and_exit_3(
    envparity_home: Path, url: str, expect: str
) -> None:
    # A URL of a kind envparity cannot use is bad input (exit 2, by the exit-code table); a
    # store it can use but cannot reach is the store's failure (exit 3).
    code = 2 if "://" not in url or url.startswith("mysql") else 3
    for args in (["list", "--db", url], ["db", "upgrade", "--db", url]):
        line = _one_error_line(invoke(envparity_home, *args), code)
        assert expect in line
        assert "s3cretpw" not in line
    # Also from the environment, and from `snapshot` (which says how not to lose the snapshot).
    line = _one_error_line(invoke(envparity_home, "snapshot", ENVPARITY_DB_URL=url), code)
    assert "not stored" in line and "s3cretpw" not in line


def test_an_unusable_home_is_one_line_and_exit_3(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    line = _one_error_line(invoke(not_a_dir / "sub", "list"), 3)
    assert "cannot create the store directory" in line and "ENVPARITY_HOME" in line


def test_unknown_and_ambiguous_refs_exit_2_with_candidates(envparity_home: Path) -> None:
    with open_store() as store:
        store.save(make_snapshot(seq=1, snapshot_id="cafe0001"))
        store.save(make_snapshot(seq=2, snapshot_id="cafe0002"))
        store.tag("cafe0001", "fraud-train")
    line = _one_error_line(invoke(envparity_home, "show", "fraud-tran"), 2)
    assert "nearest: fraud-train" in line
    line = _one_error_line(invoke(envparity_home, "show", "cafe00"), 2)
    assert "ambiguous" in line and "cafe0001" in line and "cafe0002" in line
    line = _one_error_line(invoke(envparity_home, "tag", "nope-nope", "x"), 2)
    assert "nope-nope" in line


def test_a_json_file_failing_the_schema_names_the_field(envparity_home: Path) -> None:
    data = json.loads(make_snapshot().model_dump_json())
    data["cpu"]["logical_cores"] = "many"
    bad = envparity_home / "bad.json"
    bad.write_text(json.dumps(data))
    line = _one_error_line(invoke(envparity_home, "show", str(bad)), 2)
    assert "cpu.logical_cores" in line and str(bad) in line


def test_real_processes_snapshot_then_list(tmp_path: Path) -> None:
    env = {**os.environ, "ENVPARITY_HOME": str(tmp_path)}
    env.pop("ENVPARITY_DB_URL", None)
    snap = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--role", "ci"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert snap.returncode == 0, snap.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "envparity", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert [r["role"] for r in json.loads(listed.stdout)] == ["ci"]


def test_import_and_no_store_snapshot_do_not_import_sqlalchemy(tmp_path: Path) -> None:
    code = (
        "import sys, envparity\n"
        "assert 'sqlalchemy' not in sys.modules\n"
        "from envparity.cli import app\n"
        "try:\n"
        "    app(['snapshot', '--no-store'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    env = {**os.environ, "ENVPARITY_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_home_directory_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bare container: no $HOME and no passwd entry, so expanduser cannot expand "~".
    for name in ("ENVPARITY_HOME", "ENVPARITY_DB_URL", "HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)
    result = CliRunner().invoke(app, ["list"])
    line = _one_error_line(result, 3)
    assert "no home directory" in line and "ENVPARITY_HOME" in line
    # Naming a store works without one.
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0


def test_empty_home_is_no_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # HOME="" would otherwise expand to "/" and put the store in /.local/share.
    for name in ("ENVPARITY_HOME", "ENVPARITY_DB_URL", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "")
    result = CliRunner().invoke(app, ["list"])
    line = _one_error_line(result, 3)
    assert "no home directory" in line
    assert not os.path.exists("/.local/share/envparity")
