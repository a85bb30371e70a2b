"""What the documentation promises about the command line, each checked against the tool.

Each of these was once a place where the README and the tool disagreed (issue 26): the schema
`envparity schema snapshot` prints, `-q` after the command, `ENVPARITY_LABELS` outside `run`,
the exit code of an unsupported database URL, what `--python` excludes, `--max-bytes`' minimum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from _support import REPO
from typer.testing import CliRunner

from envparity.cli import app
from envparity.errors import EXIT_CODES


def invoke(*args: str, **env: str):  # type: ignore[no-untyped-def]
    base = {"ENVPARITY_DB_URL": None, "ENVPARITY_LABELS": None, "ENVPARITY_ROLE": None}
    return CliRunner().invoke(app, list(args), env={**base, **env})


def _newest(name: str) -> Path:
    versions = {
        int(re.fullmatch(rf"{name}\.v(\d+)\.json", p.name).group(1)): p  # type: ignore[union-attr]
        for p in (REPO / "schemas").glob(f"{name}.v*.json")
    }
    return versions[max(versions)]


@pytest.mark.parametrize("name", ["snapshot", "drift-report", "bisect-report"])
def test_schema_prints_the_newest_committed_version(name: str) -> None:
    result = invoke("schema", name)
    assert result.exit_code == 0, result.output
    assert result.stdout == _newest(name).read_text(encoding="utf-8")


def test_a_real_snapshot_validates_against_envparity_schema_snapshot(
    tmp_path: Path, envparity_home: Path
) -> None:
    out = tmp_path / "snap.json"
    taken = invoke("snapshot", "--no-store", "-o", str(out))
    assert taken.exit_code == 0, taken.output
    schema = json.loads(invoke("schema", "snapshot").stdout)
    jsonschema.validate(json.loads(out.read_text()), schema)


def test_quiet_and_verbose_work_after_the_command_too(tmp_path: Path, envparity_home: Path) -> None:
    out = tmp_path / "snap.json"
    loud = invoke("snapshot", "--no-store", "-o", str(out))
    assert loud.exit_code == 0 and "written to" in loud.stderr, loud.output
    for args in (["snapshot", "-q"], ["-q", "snapshot"], ["snapshot", "--quiet"]):
        quiet = invoke(*args, "--no-store", "-o", str(out))
        assert quiet.exit_code == 0, quiet.output
        assert quiet.stderr == "", (args, quiet.stderr)
    both = invoke("-q", "snapshot", "-v", "--no-store")
    assert both.exit_code == 2 and "give --quiet or --verbose, not both" in both.stderr
    # Nested commands too.
    assert invoke("db", "info", "-q").exit_code == 0


def test_envparity_labels_is_recorded_by_snapshot_and_check(
    tmp_path: Path, envparity_home: Path
) -> None:
    out = tmp_path / "snap.json"
    env = {"ENVPARITY_LABELS": "model=fraud,team=ml"}
    done = invoke("snapshot", "--no-store", "--label", "team=risk", "-o", str(out), **env)
    assert done.exit_code == 0, done.output
    # Merged, and the command line wins for a key (as `envparity run` merges them).
    assert json.loads(out.read_text())["labels"] == {"model": "fraud", "team": "risk"}
    checked = tmp_path / "check.json"
    done = invoke(
        "check", "--baseline", str(out), "--snapshot-output", str(checked), "--fail-on", "never",
        **env,
    )
    assert done.exit_code == 0, done.output
    assert json.loads(checked.read_text())["labels"] == {"model": "fraud", "team": "ml"}
    bad = invoke("snapshot", "--no-store", ENVPARITY_LABELS="nokey")
    assert bad.exit_code == 2 and "ENVPARITY_LABELS 'nokey'" in bad.stderr, bad.output


@pytest.mark.parametrize("url", ["mysql://u:s3cret@db/x", "oracle://db/x", "just-a-file.db"])
def test_an_unsupported_database_url_is_bad_input_exit_2(envparity_home: Path, url: str) -> None:
    result = invoke("list", "--db", url)
    assert result.exit_code == 2, result.output
    assert "use sqlite:///PATH or postgresql+psycopg://" in result.stderr
    assert "s3cret" not in result.stderr


def test_python_excludes_suite_and_says_so(envparity_home: Path) -> None:
    import sys

    result = invoke("snapshot", "--no-store", "--python", sys.executable, "--suite", "quick")
    assert result.exit_code == 2
    assert "--python cannot be combined with --suite" in result.stderr
    assert "--bench" not in result.stderr


def test_max_bytes_minimum_is_in_the_help_and_enforced(tmp_path: Path) -> None:
    from envparity.report.markdown import MIN_MAX_BYTES

    help_text = " ".join(invoke("diff", "--help").stdout.split())
    assert f"at least {MIN_MAX_BYTES}" in help_text
    snap = tmp_path / "s.json"
    assert invoke("snapshot", "--no-store", "-o", str(snap)).exit_code == 0
    low = invoke("diff", str(snap), str(snap), "--max-bytes", str(MIN_MAX_BYTES - 1))
    assert low.exit_code == 2 and f"give at least {MIN_MAX_BYTES}" in low.stderr
    ok = invoke("diff", str(snap), str(snap), "--max-bytes", str(MIN_MAX_BYTES))
    assert ok.exit_code == 0, ok.output


def test_parity_takes_format_github() -> None:
    assert "github" in invoke("parity", "--help").stdout


def test_exit_code_table_holds_every_code_the_cli_uses() -> None:
    from envparity.cli import bisect as bisect_cli

    codes = {code for code, _ in EXIT_CODES}
    assert {0, 1, 2, 3, 78, bisect_cli.EXIT_NOT_REPRODUCED} <= codes


def test_no_page_installs_envparity_from_an_index() -> None:
    # envparity is on no package index: every install names a checkout, a wheel or a VCS URL.
    texts = [REPO / "README.md", REPO / "scripts" / "Dockerfile.example"]
    texts += sorted((REPO / "docs").rglob("*.md"))
    bare = re.compile(
        r"pip install[^\n`]*?(?<![\w./@-])['\"]?envparity(?:\[[\w,]+\])?['\"]?(?![\w\[@])(?!\s*@)"
    )
    for path in texts:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not bare.search(line), f"{path.relative_to(REPO)}:{number}: {line.strip()}"


@pytest.mark.parametrize(
    "fmt, first, last",
    [
        ("json", '"first_seen"', '"last_seen"'),
        ("text", "first seen", "last seen"),
        ("markdown", "first seen", "last seen"),
        ("html", "first seen", "last seen"),
    ],
)
def test_fleet_shows_first_and_last_seen_in_every_format(
    envparity_home: Path, fmt: str, first: str, last: str
) -> None:
    assert invoke("snapshot", "--role", "serving").exit_code == 0
    result = invoke("fleet", "--role", "serving", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert first in result.stdout and last in result.stdout


TZ_PROBE = """
import time

import envparity


def local_hours(instants):
    return [time.localtime(t).tm_hour for t in instants]


envparity.register_probe("local_hours", local_hours, [0, 43200, 86399])
"""


def test_bisect_reads_envparity_probes_like_every_command_with_probes(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "tzprobe.py").write_text(TZ_PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(ENVPARITY_HOME=str(tmp_path / "home"), PYTHONDONTWRITEBYTECODE="1")

    def envparity(*args: str, **extra: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        return subprocess.run(
            [sys.executable, "-m", "envparity", *args],
            capture_output=True, text=True, cwd=tmp_path, env={**env, **extra}, timeout=600,
        )

    base = envparity("snapshot", "--no-store", "-o", "base.json", "--probes", "tzprobe", TZ="UTC")
    assert base.returncode == 0, base.stderr
    found = envparity(
        "bisect", "base.json", "--max-trials", "8", "--format", "json",
        TZ="Asia/Tokyo", ENVPARITY_PROBES="tzprobe",
    )
    assert found.returncode == 0, found.stdout + found.stderr  # 0: a cause was found
    (symptom,) = json.loads(found.stdout)["symptoms"]
    assert symptom["name"] == "local_hours" and symptom["status"] == "explained"
    assert [c["keys"] for c in symptom["causes"]] == [["TZ"]]
