"""``envparity bisect`` bad input: one line naming the thing and what to do, the right exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envparity.cli import app


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from envparity.collect.capture import capture

    path = tmp_path_factory.mktemp("snap") / "base.json"
    path.write_text(capture().model_dump_json())
    return path


def _run(*args: str):
    return CliRunner().invoke(app, ["bisect", *args])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "nothing to bisect"),
        (["--bench", "no_such_bench"], "not a built-in benchmark"),
        (["--probes", "m", "--max-trials", "1"], "--max-trials 1"),
        (["--probes", "m", "--budget", "0"], "--budget"),
        (["--probes", "m", "--format", "xml"], "'xml' is not one of 'text', 'json', 'markdown'"),
        (["--probes", "m", "--python", "/no/such/python"], "--python /no/such/python"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    snapshot_file: Path, args: list, needle: str, envparity_home: Path
) -> None:
    result = _run(str(snapshot_file), *args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_missing_baseline_file_exits_2(tmp_path: Path, envparity_home: Path) -> None:
    result = _run(str(tmp_path / "nope.json"), "--probes", "m")
    assert result.exit_code == 2
    assert "no such snapshot file" in result.stderr


def test_unreachable_store_exits_3(tmp_path: Path, envparity_home: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    result = _run("latest", "--probes", "m", "--db", url)
    assert result.exit_code == 3, result.output


def test_probe_module_that_cannot_import_exits_2(
    snapshot_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envparity_home: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run(str(snapshot_file), "--probes", "no_such_probe_module", "--python",
                  sys.executable)
    assert result.exit_code == 2, result.output
    assert "no_such_probe_module" in result.stderr


def test_help_lists_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["bisect", "--help"])
    assert result.exit_code == 0
    for word in ("--probes", "--bench", "--find-links", "--index-url", "--max-trials",
                 "--budget", "--keep", "--format"):
        assert word in result.output
    assert "4: the symptom does not reproduce" in " ".join(result.output.split())


def test_baseline_without_the_probes_outputs_exits_2(
    snapshot_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envparity_home: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fresh_probes.py").write_text(
        "import envparity\nenvparity.register_probe('fresh', lambda _: [1], None)\n"
    )
    result = _run(str(snapshot_file), "--probes", "fresh_probes", "--python", sys.executable)
    assert result.exit_code == 2, result.output
    assert "no stored output for probe(s) fresh" in result.stderr
