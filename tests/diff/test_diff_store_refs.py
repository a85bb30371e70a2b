"""Refs that are not files: `envparity diff` and `check` against snapshots in the store."""

from __future__ import annotations

import pytest
from diff_snapshots import baseline, changed, cli_runner

from envparity.cli import app
from envparity.store import open_store

BASE = baseline()
OTHER = changed(
    changed(BASE, "snapshot_id", "d" * 32), "platform.timezone", "Asia/Tokyo"
).with_fingerprint()


def _store_and_diff(url, tmp_path):
    with open_store(url) as store:
        store.save(BASE)
        store.save(OTHER)
        store.tag(BASE.snapshot_id, "fraud-train")
    other_file = tmp_path / "other.json"
    other_file.write_text(OTHER.model_dump_json())
    runner = cli_runner()
    by_tag = runner.invoke(app, ["diff", "fraud-train", str(other_file), "--db", url])
    assert by_tag.exit_code == 0, by_tag.output
    assert "platform:timezone  UTC -> Asia/Tokyo" in by_tag.stdout
    assert "baseline:  fraud-train (id bbbbbbbbbbbb" in by_tag.stdout
    by_prefix = runner.invoke(
        app, ["diff", "bbbbbbbb", "dddddddd", "--db", url, "--fail-on", "warning"]
    )
    assert by_prefix.exit_code == 1, by_prefix.output
    unknown = runner.invoke(app, ["diff", "no-such-tag", str(other_file), "--db", url])
    assert unknown.exit_code == 2
    assert "no-such-tag" in unknown.stderr


def test_refs_in_sqlite(tmp_path, envparity_home):
    _store_and_diff(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)


@pytest.mark.postgres
def test_refs_in_postgres(tmp_path, envparity_home, pg_db):
    _store_and_diff(pg_db, tmp_path)


def test_unreachable_store_is_exit_3_and_the_url_is_redacted(tmp_path, envparity_home):
    url = "postgresql+psycopg://fleet:hunter2@127.0.0.1:1/envparity"
    result = cli_runner().invoke(app, ["diff", "fraud-train", "x.json", "--db", url])
    assert result.exit_code == 3
    assert "hunter2" not in result.output
    assert "127.0.0.1:1" in result.stderr
