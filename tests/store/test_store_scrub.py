"""Redact on read, and ``envparity db scrub``.

A store written by an older envparity holds credentials that version did not redact: planted here
by saving snapshots whose values were never redacted (as an older capture left them). ``show``,
``diff`` and the hook never print them, both sides of a comparison are redacted with today's rules
(a new rule is no drift), and ``db scrub`` removes them from the rows while the old fingerprints
keep resolving through ``fingerprint_aliases``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa
from store_fixtures import make_snapshot

from envparity.model import Package, Snapshot
from envparity.redact import REDACTED
from envparity.store import open_store

TRIGGER = "glptt-" + "0123456789abcdef" * 2 + "01234567"  # a rule added in issue 22
PASSWORD = "Url#Pw/x?y"
INDEX = f"https://deploy:{PASSWORD}@pkgs.internal/simple/torch-2.0.whl"
SECRETS = [TRIGGER, PASSWORD, "Url#Pw"]


def _old_capture(seq: int = 0) -> Snapshot:
    """A snapshot as an older envparity stored it: the token and the password in clear."""
    snap = make_snapshot(seq=seq)
    packages = list(snap.packages) + [Package(name="torch", version="2.0.0", url=INDEX)]
    determinism = snap.determinism.model_copy(update={"env": {"TORCH_TRIGGER": TRIGGER}})
    return snap.model_copy(
        update={"packages": packages, "determinism": determinism}
    ).with_fingerprint()


def _today(snap: Snapshot) -> Snapshot:
    """The same environment as today's capture records it."""
    packages = [
        p.model_copy(update={"url": "https://***@pkgs.internal/simple/torch-2.0.whl"})
        if p.url
        else p
        for p in snap.packages
    ]
    determinism = snap.determinism.model_copy(update={"env": {"TORCH_TRIGGER": REDACTED}})
    return snap.model_copy(
        update={"packages": packages, "determinism": determinism, "snapshot_id": "today" * 4}
    ).with_fingerprint()


def _cli(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True, text=True, env=env, cwd=env["TMPDIR"], timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def env(tmp_path: Path) -> Dict[str, str]:
    from _support import isolated_env

    return isolated_env(tmp_path, tmp_path / "home", ENVPARITY_DB_TIMEOUT="20")


def _leaks(text: str) -> List[str]:
    return [s for s in SECRETS if s in text]


def _rows_text(url: str) -> str:
    engine = sa.create_engine(url)
    out = []
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                out += [repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{table}"'))]
    finally:
        engine.dispose()
    return "\n".join(out)


def test_reads_redact_what_an_older_version_stored(store_url: str, env: Dict[str, str]) -> None:
    old = _old_capture()
    with open_store(store_url) as store:
        store.save(old)
        store.tag(old.snapshot_id, "train")
        read = store.get(old.snapshot_id)
    assert _leaks(read.model_dump_json()) == []
    assert read.determinism.env["TORCH_TRIGGER"] == REDACTED
    seen = []
    for args in (["show", "train"], ["show", "train", "--json"], ["list", "--json"],
                 ["diff", "train", "train", "--format", "json"], ["fleet"]):  # fmt: skip
        done = _cli(*args, "--db", store_url, env=env)
        assert done.returncode == 0, (args, done.stderr)
        seen += [done.stdout, done.stderr]
    hook = _cli("run", "--db", store_url, "--baseline", "train", "--budget", "120", "--",
                sys.executable, "-c", "pass", env=env)  # fmt: skip
    assert hook.returncode == 0, hook.stderr
    seen.append(hook.stderr)
    assert _leaks("\n".join(seen)) == []
    assert _leaks(_rows_text(store_url)) != []  # still in the rows: what `db scrub` is for


def test_a_new_rule_is_not_drift(store_url: str, env: Dict[str, str], tmp_path: Path) -> None:
    old = _old_capture()
    today = _today(old)
    with open_store(store_url) as store:
        store.save(old)
    (tmp_path / "today.json").write_text(today.model_dump_json())
    done = _cli("diff", old.snapshot_id, str(tmp_path / "today.json"), "--db", store_url,
                "--format", "json", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    keys = [f["key"] for f in json.loads(done.stdout)["findings"]]
    assert not [k for k in keys if "TORCH_TRIGGER" in k or "torch" in k], keys
    # Two files, the old one never redacted: the same.
    (tmp_path / "old.json").write_text(old.model_dump_json())
    done = _cli("diff", str(tmp_path / "old.json"), str(tmp_path / "today.json"),
                "--format", "json", env=env)  # fmt: skip
    assert done.returncode == 0 and _leaks(done.stdout) == [], done.stdout


def test_db_scrub_rewrites_rows_and_old_fingerprints_still_resolve(
    store_url: str, env: Dict[str, str]
) -> None:
    first, second = _old_capture(seq=1), _old_capture(seq=2)
    assert first.fingerprint == second.fingerprint
    with open_store(store_url) as store:
        store.save(first)
        store.save(second)
        store.tag(first.snapshot_id, "train")
    old_fp = first.fingerprint
    dry = _cli("db", "scrub", "--dry-run", "--db", store_url, env=env)
    assert dry.returncode == 0 and "would rewrite 1 environment" in dry.stderr, dry.stderr
    assert _leaks(_rows_text(store_url)) != []
    done = _cli("db", "scrub", "--json", "--db", store_url, env=env)
    assert done.returncode == 0, done.stderr
    moved = json.loads(done.stdout)["environments"]
    new_fp = moved[old_fp]
    assert new_fp != old_fp and new_fp == _today(first).fingerprint
    assert _leaks(_rows_text(store_url)) == []
    with open_store(store_url, migrate=False) as store:
        assert store.resolve("train").fingerprint == new_fp
        assert store.resolve(f"fp:{old_fp}").snapshot_id == second.snapshot_id
        assert store.get_environment(old_fp[:16]).fingerprint == new_fp
        groups = store.environment_groups()
        assert [(g.fingerprint, g.sightings) for g in groups] == [(new_fp, 2)]
    for ref in (f"fp:{old_fp[:16]}", "train"):
        shown = _cli("show", ref, "--db", store_url, env=env)
        assert shown.returncode == 0 and new_fp in shown.stdout, shown.stderr
    again = _cli("db", "scrub", "--json", "--db", store_url, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["environments"] == {}, again.stdout


def test_db_scrub_on_a_store_one_step_behind_says_upgrade(
    tmp_path: Path, env: Dict[str, str]
) -> None:
    from envparity.store import connect, migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with connect(url) as store:
        store.upgrade(migrate.OLDEST_STORE)
    done = _cli("db", "scrub", "--db", url, env=env)
    assert done.returncode == 3 and "envparity db upgrade" in done.stderr, done.stderr
