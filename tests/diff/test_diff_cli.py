"""`envparity diff` and `envparity check` from the command line: formats, exit codes, bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from diff_snapshots import baseline, changed, cli_runner, with_package

from envparity.cli import app
from envparity.model import DriftReport

BASE = baseline()
WARN = changed(BASE, "platform.timezone", "Asia/Tokyo")  # a warning only
ERROR = with_package(WARN, "numpy", "2.0.0")  # an error and a warning


@pytest.fixture
def files(tmp_path, envparity_home, monkeypatch):
    """Snapshot files a.json (baseline), warn.json and error.json; cwd is an empty directory."""
    out = {}
    for name, snap in (("a", BASE), ("warn", WARN), ("error", ERROR)):
        path = tmp_path / f"{name}.json"
        path.write_text(snap.model_dump_json(indent=2), encoding="utf-8")
        out[name] = str(path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return out


def invoke(*args):
    return cli_runner().invoke(app, list(args))


def one_error_line(result, code, *parts):
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("envparity: error: ")
    for part in parts:
        assert part in lines[0]
    assert "Traceback" not in result.output


def test_same_snapshot_no_drift_exit_0(files):
    result = invoke("diff", files["a"], files["a"])
    assert result.exit_code == 0
    assert result.stdout.startswith("envparity: no drift: 0 errors, 0 warnings, 0 info")


@pytest.mark.parametrize(
    ("cand", "fail_on", "code"),
    [
        ("error", None, 1),
        ("warn", None, 0),
        ("warn", "warning", 1),
        ("warn", "info", 1),
        ("error", "never", 0),
    ],
)
def test_exit_code_follows_fail_on(files, cand, fail_on, code):
    args = ["diff", files["a"], files[cand]] + (["--fail-on", fail_on] if fail_on else [])
    assert invoke(*args).exit_code == code


def test_error_report_says_what_to_do(files):
    result = invoke("diff", files["a"], files["error"])
    assert "package:numpy  1.26.4 -> 2.0.0" in result.stdout
    assert "pin numpy==1.26.4" in result.stdout


def test_json_to_file_with_verdict_on_stderr(files, tmp_path):
    out = tmp_path / "report.json"
    result = invoke("diff", files["a"], files["error"], "--format", "json", "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"report written to {out}" in result.stderr
    report = DriftReport.model_validate_json(out.read_text())
    assert (report.verdict, report.baseline.ref) == ("error", files["a"])


@pytest.mark.parametrize("fmt", ["markdown", "junit", "html"])
def test_other_formats(files, fmt):
    result = invoke("diff", files["a"], files["error"], "-f", fmt)
    assert result.exit_code == 1
    assert "numpy" in result.stdout
    if fmt == "junit":
        root = ET.fromstring(result.stdout.encode())
        assert root.find("testsuite").get("failures") == "1"


def test_policy_file_and_pyproject(files, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('ignore = ["package:numpy"]\nfail_on = "warning"\n')
    result = invoke("diff", files["a"], files["error"], "--policy", str(policy))
    assert result.exit_code == 1  # numpy ignored, the time zone warning fails at warning
    # No numpy finding; the policy line says it ignored one (issue 24: visible policy).
    assert "package:numpy  " not in result.stdout and "numpy ->" not in result.stdout
    assert f"policy: {policy}: ignored 1 (package:numpy)" in result.stdout
    # --fail-on beats the policy's fail_on.
    assert (
        invoke(
            "diff", files["a"], files["error"], "--policy", str(policy), "--fail-on", "error"
        ).exit_code
        == 0
    )
    # [tool.envparity] of ./pyproject.toml applies without --policy.
    (tmp_path / "work" / "pyproject.toml").write_text('[tool.envparity]\nignore = ["package:*"]\n')
    assert invoke("diff", files["a"], files["error"]).exit_code == 0


def test_missing_file(files):
    one_error_line(invoke("diff", files["a"], "nope.json"), 2, "nope.json: no such snapshot file")


def test_not_json(files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_error_line(invoke("diff", str(bad), files["a"]), 2, f"{bad}: not JSON")


def test_schema_invalid_file_names_the_field(files, tmp_path):
    data = json.loads(BASE.model_dump_json())
    data["python"]["version"] = 3.11
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    one_error_line(
        invoke("diff", files["a"], str(bad)),
        2,
        "not a valid envparity snapshot: field python.version",
    )


def test_unknown_format(files):
    one_error_line(
        invoke("diff", files["a"], files["a"], "--format", "xml"),
        2,
        "'--format' / '-f': 'xml' is not one of 'text', 'json', 'markdown', 'junit', 'html'",
    )


def test_bad_fail_on(files):
    one_error_line(
        invoke("diff", files["a"], files["a"], "--fail-on", "sometimes"),
        2,
        "'sometimes' is not one of 'info', 'warning', 'error', 'never'",
    )


def test_invalid_policy_names_the_line(files, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('ignore = ["gpu:*"]\n\n[severity]\nblas = "loud"\n')
    one_error_line(
        invoke("diff", files["a"], files["a"], "--policy", str(policy)),
        2,
        f"{policy} line 4: [severity] blas = 'loud': expected one of info, warning, error, ignore",
    )


def test_output_into_missing_directory_writes_nothing(files, tmp_path):
    out = tmp_path / "nodir" / "r.md"
    one_error_line(invoke("diff", files["a"], files["a"], "-o", str(out)), 2, "does not exist")
    assert not out.parent.exists()


def test_check_snapshots_this_environment(files, tmp_path):
    snap = tmp_path / "me.json"
    result = invoke(
        "check",
        "--baseline",
        files["a"],
        "--fail-on",
        "never",
        "--label",
        "model=fraud",
        "--snapshot-output",
        str(snap),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = DriftReport.model_validate_json(result.stdout)
    assert report.candidate.ref == "this environment"
    assert (report.candidate.role, report.candidate.labels) == ("ci", {"model": "fraud"})
    assert report.verdict == "error"  # this machine is not the made-up training box
    assert json.loads(snap.read_text())["snapshot_id"] == report.candidate.snapshot_id


def test_check_with_a_missing_baseline_fails_before_capturing(files):
    one_error_line(invoke("check", "--baseline", "gone.json"), 2, "gone.json: no such snapshot")
