"""GitHub Actions: ``--format github`` workflow commands (hostile values encoded as the runner
requires) and the step summary that ``diff`` and ``check`` append to."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from typer.testing import CliRunner

from envparity.model import (
    Collection,
    DriftReport,
    Finding,
    Package,
    PythonInfo,
    Snapshot,
    SnapshotSummary,
)
from envparity.report import render

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


def _decode(text: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _parse(line: str):
    """A workflow command as the Actions runner splits it: command, properties, message."""
    assert line.startswith("::")
    head, sep, message = line[2:].partition("::")
    assert sep
    command, _, props = head.partition(" ")
    properties = {}
    for item in props.split(",") if props else []:
        key, _, value = item.partition("=")
        properties[key] = _decode(value)
    return command, properties, _decode(message)


def _report(findings) -> DriftReport:
    side = SnapshotSummary(ref="base", snapshot_id="a" * 32, fingerprint="f" * 64, captured_at=NOW)
    return DriftReport(
        baseline=side,
        candidate=side.model_copy(update={"ref": "cand"}),
        verdict="error",
        failed=True,
        counts={"error": 1, "warning": 1, "info": 1},
        findings=findings,
    )


def test_hostile_values_are_encoded_as_workflow_commands_require():
    hostile = "100% sure\r\n::error::forged,title=x:y"
    report = _report(
        [
            Finding(category="env", key="A::B,C", baseline=hostile, candidate="ok",
                    change="changed", severity="error", why="why %0A\nnext"),
            Finding(category="package", key="numpy", baseline="1.0", candidate="2.0",
                    change="changed", severity="warning", why="minor"),
            Finding(category="package", key="six", baseline=None, candidate="1.0",
                    change="added", severity="info", why="added"),
        ]
    )
    lines = render(report, "github").splitlines()
    assert len(lines) == 4  # one per finding and the verdict: no value started a line
    command, props, message = _parse(lines[0])
    assert command == "error"
    assert set(props) == {"title"}
    assert props["title"] == "envparity error: env:A::B,C"
    assert message == f"env:A::B,C {hostile} -> ok [changed]: why %0A\nnext"
    assert "\r" not in lines[0] and "%25" in lines[0] and "%0D%0A" in lines[0]
    assert _parse(lines[1])[0] == "warning"
    assert _parse(lines[2])[0] == "notice"
    assert lines[3].startswith("envparity: drift ERROR")
    # An escape sequence is shown, not sent to the log.
    ansi = _report([Finding(category="env", key="K", baseline="\x1b[31mred", candidate=None,
                            change="removed", severity="error", why="w")])
    assert "\x1b" not in render(ansi, "github")


def _snap(numpy: str, sid: str) -> Snapshot:
    return Snapshot(
        snapshot_id=sid,
        captured_at=NOW,
        packages=[Package(name="numpy", version=numpy)],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


def test_a_failing_diff_prints_error_annotations_and_writes_the_step_summary(tmp_path):
    from envparity.cli import app

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_snap("1.26.4", "a" * 32).model_dump_json())
    b.write_text(_snap("2.3.5", "b" * 32).model_dump_json())
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = CliRunner().invoke(app, ["diff", str(a), str(b), "--format", "github"], env=env)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1 and "numpy 1.26.4 -> 2.3.5" in errors[0]
    text = summary.read_text()
    assert text.startswith("# earlier step\n")  # appended, never overwritten
    assert "**envparity: drift error**" in text and "numpy" in text

    # No variable, no file touched; a summary that cannot be written is a warning, not a failure.
    before = summary.read_text()
    plain = CliRunner().invoke(app, ["diff", str(a), str(b)], env={"GITHUB_STEP_SUMMARY": ""})
    assert plain.exit_code == 1 and summary.read_text() == before
    bad = CliRunner().invoke(
        app, ["diff", str(a), str(a)], env={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "x")}
    )
    assert bad.exit_code == 0
    assert "GITHUB_STEP_SUMMARY" in bad.output and "Traceback" not in bad.output


def test_check_appends_the_step_summary_too(tmp_path):
    from envparity.cli import app

    base = tmp_path / "a.json"
    base.write_text(_snap("0.0.1", "a" * 32).model_dump_json())
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        app,
        ["check", "--baseline", str(base), "--format", "json"],
        env={"GITHUB_STEP_SUMMARY": str(summary), "ENVPARITY_HOME": str(tmp_path / "h")},
    )
    assert result.exit_code == 1, result.output
    assert "**envparity: drift error**" in summary.read_text()


def test_check_store_keeps_the_ci_snapshot(tmp_path):
    from envparity.cli import app
    from envparity.store import open_store

    base = tmp_path / "a.json"
    base.write_text(_snap("1.26.4", "a" * 32).model_dump_json())
    db = f"sqlite:///{tmp_path / 'ci.db'}"
    result = CliRunner().invoke(
        app, ["check", "--baseline", str(base), "--store", "--db", db, "--role", "ci",
              "--label", "job=42"],
        env={"ENVPARITY_HOME": str(tmp_path / "h")},
    )
    assert result.exit_code == 1, result.output
    with open_store(db) as store:
        (row,) = store.list_snapshots()
    assert row.role == "ci" and row.labels == {"job": "42"}
    assert f"stored snapshot {row.snapshot_id}" in result.output
