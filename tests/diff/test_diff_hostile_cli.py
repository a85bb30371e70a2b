"""Hostile values in ``list``, ``show``, ``run``'s summary and ``fleet``; ``fp:`` refs.

A role or label is whatever the process that took the snapshot said: it may hold ESC sequences
(rewrite the terminal), CR (forge a log line), bidi overrides (reorder what a reader sees) or
Markdown/HTML. Every command that prints them neutralizes them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from diff_snapshots import baseline, changed, cli_runner

from envparity.cli import app
from envparity.fleet import fleet_view
from envparity.report.fleet import render_fleet
from envparity.store import open_store

HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\rforged\u202etxt [x](https://e.example) <b>"
BAD = ("\x1b", "\r", "\x07", "\u202e")

BASE = baseline()
EVIL = changed(
    changed(changed(BASE, "snapshot_id", "e" * 32), "role", HOSTILE), "labels", {"m": HOSTILE}
)
EVIL = changed(EVIL, "platform.timezone", "Asia/Tokyo").with_fingerprint()


def _clean(text: str) -> None:
    for bad in BAD:
        assert bad not in text, repr(bad)


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        store.save(BASE)
        store.save(EVIL)
    return url


def test_list_and_show_neutralize_hostile_roles_and_labels(url):
    runner = cli_runner()
    listed = runner.invoke(app, ["list", "--db", url])
    assert listed.exit_code == 0, listed.output
    _clean(listed.stdout)
    assert "evil\\x1b]0;pwned\\x07" in listed.stdout
    shown = runner.invoke(app, ["show", "eeeeeeee", "--db", url])
    assert shown.exit_code == 0, shown.output
    _clean(shown.stdout)
    assert "\\u202etxt" in shown.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_fleet_neutralizes_hostile_values(url, fmt):
    with open_store(url) as store:
        view = fleet_view(store, BASE, baseline_ref=HOSTILE, role=None)
    text = render_fleet(view, fmt)
    _clean(text)
    if fmt == "markdown":
        assert "](" not in text and "<b>" not in text
    if fmt == "html":
        assert "<b>" not in text and "&lt;b&gt;" in text


def test_fp_ref_names_the_latest_snapshot_of_an_environment(url):
    runner = cli_runner()
    fp = EVIL.fingerprint
    for ref in (f"fp:{fp[:12]}", f"fp:{fp}", f"fp:{fp[:12].upper()}"):
        shown = runner.invoke(app, ["show", ref, "--db", url])
        assert shown.exit_code == 0, (ref, shown.output)
        assert f"snapshot     {EVIL.snapshot_id}" in shown.stdout
    refs = [f"fp:{BASE.fingerprint[:12]}", f"fp:{fp[:16]}"]
    by_fp = runner.invoke(app, ["diff", *refs, "--db", url])
    assert by_fp.exit_code == 0, by_fp.output
    assert "platform:timezone  UTC -> Asia/Tokyo" in by_fp.stdout
    for bad, message in (
        ("fp:9e9e90", "12 to 64 hex characters"),
        ("fp:not-hex-at-all!", "12 to 64 hex characters"),
        ("fp:" + "0" * 12, "no stored snapshot has that fingerprint"),
    ):
        r = runner.invoke(app, ["show", bad, "--db", url])
        assert r.exit_code == 2, (bad, r.output)
        assert message in r.stderr and "Traceback" not in r.output


def test_run_summary_prints_the_id_and_fp_ref_and_neutralizes_the_role(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(ENVPARITY_HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path))
    base = tmp_path / "base.json"
    base.write_text(BASE.model_dump_json())
    url = f"sqlite:///{tmp_path / 'home' / 'envparity.db'}"
    (tmp_path / "home").mkdir()
    open_store(url).close()  # a real store, as the hook tests use
    r = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--baseline", str(base), "--role", HOSTILE,
         "--label", f"m={HOSTILE}", "--budget", "30", "--", sys.executable, "-c", "pass"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    summary = [line for line in r.stderr.splitlines() if line.startswith("envparity: ")]
    assert len(summary) == 1, r.stderr
    _clean(summary[0])
    assert " (fp:" in summary[0]
    fp = summary[0].split(" (fp:")[1][:12]
    sid = summary[0].split(" (fp:")[0].split()[-1]
    runner = cli_runner()
    for ref in (sid, f"fp:{fp}"):
        shown = runner.invoke(app, ["show", ref, "--db", url])
        assert shown.exit_code == 0, (ref, shown.output)
