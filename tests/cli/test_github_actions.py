"""GitHub Actions beyond the basics: annotations capped as the runner caps them and anchored to
the line that pins the package, the verdict in ``$GITHUB_OUTPUT``, and the step summaries of
``parity`` (see tests/parity/test_entry_points.py for pytest's). Real files in a temp working
tree, real environment variables pointing at real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from envparity.model import Collection, Package, PythonInfo, Snapshot
from envparity.report.github import MAX_PER_KIND, output_lines
from envparity.report.pins import find_pins

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


def _snap(sid: str, packages: Dict[str, str], env: Dict[str, str]) -> Snapshot:
    return Snapshot(
        snapshot_id=sid,
        captured_at=NOW,
        packages=[Package(name=n, version=v) for n, v in packages.items()],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


def _parse(line: str):
    head, _, message = line[2:].partition("::")
    command, _, props = head.partition(" ")
    properties = dict(item.partition("=")[::2] for item in props.split(",")) if props else {}
    unquote = lambda v: re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), v)  # noqa: E731
    return command, {k: unquote(v) for k, v in properties.items()}, unquote(message)


def _envparity(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENVPARITY_", "GITHUB_"))}
    base.update(ENVPARITY_HOME=str(cwd / "home"), **env)
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        cwd=cwd, env=base, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """A working tree whose requirements pin 25 packages a major version ahead of the baseline
    (25 errors), 12 a minor version ahead (12 warnings), and a subdirectory's pyproject."""
    majors = {f"major-pkg{i:02d}": ("1.0.0", "2.0.0") for i in range(25)}
    minors = {f"minor_pkg{i:02d}": ("1.0.0", "1.1.0") for i in range(12)}
    both = {**majors, **minors}
    req = ["# the serving image's pins", "--index-url https://example.invalid/simple", ""]
    req += [f"{n}=={new}" for n, (_, new) in both.items() if n != "major-pkg03"]
    (tmp_path / "requirements.txt").write_text("\n".join(req) + "\n")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pyproject.toml").write_text(
        '[project]\nname = "svc"\ndependencies = [\n  "Major.Pkg03>=2",\n]\n'
    )
    a = _snap("a" * 32, {n: old for n, (old, _) in both.items()}, {})
    b = _snap("b" * 32, {n: new for n, (_, new) in both.items()}, {})
    (tmp_path / "a.json").write_text(a.model_dump_json())
    (tmp_path / "b.json").write_text(b.model_dump_json())
    return tmp_path


def test_annotations_are_capped_per_kind_with_the_rest_folded_and_anchored_to_the_pin(many):
    done = _envparity(many, "diff", "a.json", "b.json", "--format", "github")
    assert done.returncode == 1, done.stderr
    commands = [_parse(line) for line in done.stdout.splitlines() if line.startswith("::")]
    kinds = [c[0] for c in commands]
    # Errors first, then warnings, at most 10 of each (the runner drops the rest), one notice.
    assert kinds == ["error"] * MAX_PER_KIND + ["warning"] * MAX_PER_KIND + ["notice"]
    notice = commands[-1][2]
    assert "15 more errors, 2 more warnings" in notice and "in the step summary" in notice
    lines = (many / "requirements.txt").read_text().splitlines()
    for _command, props, message in commands[:-1]:
        name = message.split(" ", 1)[0].split(":", 1)[1]
        if name == "major-pkg03":  # pinned only in the subdirectory's pyproject, line 4
            assert (props["file"], props["line"]) == ("svc/pyproject.toml", "4")
            continue
        line = lines[int(props["line"]) - 1]
        assert props["file"] == "requirements.txt" and line.startswith(f"{name}=="), (props, line)
    assert any(p.get("file") == "svc/pyproject.toml" for _, p, _ in commands)


def test_no_dependency_file_no_anchor(tmp_path):
    a = _snap("a" * 32, {"numpy": "1.0"}, {})
    b = _snap("b" * 32, {"numpy": "2.0"}, {})
    (tmp_path / "a.json").write_text(a.model_dump_json())
    (tmp_path / "b.json").write_text(b.model_dump_json())
    done = _envparity(tmp_path, "diff", "a.json", "b.json", "--format", "github")
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("::error")]
    assert set(_parse(line)[1]) == {"title"}


def test_pins_from_locks_and_pyproject_tables(tmp_path):
    (tmp_path / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "scipy"\nversion = "1.13.0"\n'
    )
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nname = "Pandas"\nversion = "2.2.0"\n'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n'
        'dependencies = ["scipy>=1", "Torch==2.1 ; os_name == \'posix\'"]\n'
        '[project.optional-dependencies]\ntest = [\n  "pytest>=8",  # tests\n]\n'
        '[tool.poetry.dependencies]\npython = "^3.9"\nrequests = "^2"\n'
    )
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "requirements.txt").write_text("hidden==1\n")
    pins = find_pins(str(tmp_path))
    assert pins == {
        "pandas": ("pylock.toml", 3),
        "scipy": ("uv.lock", 4),  # the lock's exact pin before pyproject's range
        "torch": ("pyproject.toml", 3),
        "pytest": ("pyproject.toml", 6),
        "requests": ("pyproject.toml", 10),
    }


def _outputs(text: str) -> Dict[str, str]:
    """``$GITHUB_OUTPUT`` read as the runner reads it (``name=value`` and ``name<<DELIM``)."""
    values: Dict[str, str] = {}
    lines: List[str] = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, _, value = line.partition("=")
            values[name] = value
            i += 1
    return values


def test_verdict_counts_and_fingerprints_go_to_github_output(many):
    out = many / "github_output"
    out.write_text("earlier=kept\n")
    done = _envparity(many, "diff", "a.json", "b.json", "-f", "json", GITHUB_OUTPUT=str(out))
    assert done.returncode == 1, done.stderr
    values = _outputs(out.read_text())
    b = Snapshot.model_validate_json((many / "b.json").read_text())
    a = Snapshot.model_validate_json((many / "a.json").read_text())
    assert values == {
        "earlier": "kept",  # appended, never truncated
        "verdict": "error",
        "failed": "true",
        "errors": "25",
        "warnings": "12",
        "infos": "0",
        "fingerprint": b.fingerprint,
        "baseline-fingerprint": a.fingerprint,
    }
    # A value with a line break cannot inject a second output: the delimiter syntax holds it.
    text = output_lines({"note": "a\nforged=1", "plain": "x"})
    assert _outputs(text) == {"note": "a\nforged=1", "plain": "x"}
    # An output file that cannot be written is a warning; the report and exit code stand.
    bad = _envparity(
        many, "diff", "a.json", "a.json", GITHUB_OUTPUT=str(many / "missing" / "out")
    )
    assert bad.returncode == 0 and "GITHUB_OUTPUT" in bad.stderr and "Traceback" not in bad.stderr
