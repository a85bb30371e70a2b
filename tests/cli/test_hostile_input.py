"""Hostile input never makes a traceback: each cause the campaign found is one line and exit 2,
and a fuzz test (hypothesis, a fixed example budget, in-process through Typer's CliRunner) throws
hostile arguments and input files at every command."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envparity.cli import app
from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot
from envparity.store import open_store

ESC = "evil\x1b[2J\x07\u202etxt\x85"
SURROGATE = "\udcff"  # how Python hands over argv/environment bytes that were not UTF-8
BIG_INT = "9" * 5000  # over Python's 4,300-digit limit for int(str)


def _snap(sid: str = "b" * 32, role: str = "training") -> Snapshot:
    return Snapshot(
        snapshot_id=sid,
        captured_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        role=role,
        labels={"model": "fraud"},
        packages=[Package(name="numpy", version="1.26.4"), Package(name="pip", version="24.0")],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(hostname="trainer-1"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


class Files:
    """A store and input files, good and hostile, under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = f"sqlite:///{root / 'store.db'}"
        with open_store(self.db) as store:
            store.save(_snap())
            store.save(_snap("e" * 32, role=ESC))
            store.tag("b" * 32, "prod")
        text = _snap().model_dump_json(indent=2)
        self.good = self._write("good.json", text)
        self.big_int = self._write(
            "big-int.json",
            re.sub(r'"schema_version": \d+', f'"schema_version": {BIG_INT}', text, count=1),
        )
        self.nested_big_int = self._write(
            "nested-big-int.json", text.rstrip()[:-1] + f', "x": [[{BIG_INT}]]}}'
        )
        self.surrogate = self._write(
            "surrogate.json", text.replace('"role": "training"', '"role": "\\ud800"')
        )
        self.policy_big_int = self._write("big-int.toml", f'fail_on = "error"\nx = {BIG_INT}\n')
        self.policy = self._write("policy.toml", 'fail_on = "error"\n')
        self.fifo = str(root / "fifo")
        os.mkfifo(self.fifo)
        (root / "home").mkdir()
        assert self.big_int != self.good and "\\ud800" in Path(self.surrogate).read_text()

    def _write(self, name: str, text: str) -> str:
        path = self.root / name
        path.write_text(text)
        return str(path)

    def env(self, **extra: str) -> Dict[str, str]:
        return {
            "ENVPARITY_HOME": str(self.root / "home"),
            "ENVPARITY_DB_URL": self.db,
            "ENVPARITY_MAX_INPUT_BYTES": "",
            **extra,
        }


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("hostile"))


def _invoke(args: List[str], env: Dict[str, str]) -> Any:
    from typer.testing import CliRunner

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # Click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(app, args, env=env)


def _no_traceback(result: Any, args: List[str]) -> None:
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        raise AssertionError(f"envparity {args!r} raised:\n{tb}")
    assert "Traceback" not in result.stderr + result.stdout, args


def _one_line_error(result: Any, args: List[str], needle: str = "") -> str:
    _no_traceback(result, args)
    assert result.exit_code == 2, (args, result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("envparity: error: "), result.stderr
    assert needle in lines[0], lines[0]
    return lines[0]


# --- The seven causes of the campaign's 27 tracebacks, one line and exit 2 each. ---


@pytest.mark.parametrize("which", ["big_int", "nested_big_int"])
@pytest.mark.parametrize(
    "command",
    [
        ["show", "{f}"],
        ["diff", "{f}", "{good}"],
        ["diff", "{good}", "{f}"],
        ["export", "{f}"],
        ["fleet", "--baseline", "{f}"],
        ["bisect", "{f}", "--bench", "py_loop"],
    ],
)
def test_a_json_integer_over_4300_digits_is_one_line(files: Files, which: str, command: List[str]):
    path = getattr(files, which)
    args = [a.format(f=path, good=files.good) for a in command]
    _one_line_error(_invoke(args, files.env()), args, "a number with too many digits")


@pytest.mark.parametrize("command", [["list"], ["show", "bbbbbbbb"], ["diff", "bbbbbbbb", "prod"]])
def test_a_store_row_with_an_integer_over_4300_digits_is_one_line(
    tmp_path: Path, command: List[str]
):
    db = tmp_path / "crafted.db"
    with open_store(f"sqlite:///{db}") as store:
        store.save(_snap())
        store.tag("b" * 32, "prod")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE sightings SET labels = ?", ('{"x": ' + BIG_INT + "}",))
    conn.close()
    args = [*command, "--db", f"sqlite:///{db}"]
    _one_line_error(_invoke(args, {"ENVPARITY_HOME": str(tmp_path)}), args, "too many digits")


def test_a_toml_policy_integer_over_4300_digits_is_one_line(files: Files):
    args = ["diff", "--policy", files.policy_big_int, files.good, files.good]
    _one_line_error(_invoke(args, files.env()), args, "big-int.toml")


@pytest.mark.parametrize(
    "command", [["show", "{f}"], ["diff", "{f}", "{good}"], ["diff", "{good}", "{f}"]]
)
def test_a_lone_surrogate_escape_is_one_line(files: Files, command: List[str]):
    args = [a.format(f=files.surrogate, good=files.good) for a in command]
    _one_line_error(_invoke(args, files.env()), args, "lone surrogate")


def test_check_with_a_lone_surrogate_baseline_is_one_line(files: Files):
    args = ["check", "--baseline", files.surrogate]
    _one_line_error(_invoke(args, files.env()), args, "lone surrogate")


@pytest.mark.parametrize("value", ["1" + "0" * 23, "9" * 200, "1e23"])
def test_max_input_bytes_huge_or_odd_is_not_a_traceback(files: Files, value: str):
    args = ["show", files.good]
    result = _invoke(args, files.env(ENVPARITY_MAX_INPUT_BYTES=value))
    _no_traceback(result, args)
    if value == "1" + "0" * 23:
        assert result.exit_code == 0, result.stderr  # a huge limit is no limit, not a crash
    else:
        _one_line_error(result, args, "ENVPARITY_MAX_INPUT_BYTES")


BAD_TAG_NAMES = [SURROGATE, "bad" + SURROGATE, "bell\x07", "esc\x1b[31m", "\u202e"]


@pytest.mark.parametrize("name", BAD_TAG_NAMES)
def test_tag_names_with_control_or_non_utf8_characters_are_refused(files: Files, name: str):
    args = ["tag", "prod", name]
    line = _one_line_error(_invoke(args, files.env()), args, "tag name")
    for bad in ("\x1b", "\x07", "\u202e", SURROGATE):
        assert bad not in line


def test_tag_history_escapes_a_name_an_older_envparity_wrote(files: Files):
    # Older versions accepted ESC/BEL in tag names: such rows must print escaped.
    conn = sqlite3.connect(files.db[len("sqlite:///") :])
    with conn:
        conn.execute("UPDATE tags SET name = ? WHERE name = 'prod'", ("p\x1b[2Jx\x07",))
        conn.execute("UPDATE tag_history SET name = ? WHERE name = 'prod'", ("p\x1b[2Jx\x07",))
    conn.close()
    try:
        for args in (["tag", "--history", "p\x1b[2Jx\x07"], ["list"]):
            result = _invoke(args, files.env())
            _no_traceback(result, args)
            assert result.exit_code == 0, result.stderr
            assert "\x1b" not in result.stdout and "\x07" not in result.stdout
            assert "p\\x1b[2Jx\\x07" in result.stdout
    finally:
        conn = sqlite3.connect(files.db[len("sqlite:///") :])
        with conn:
            conn.execute("UPDATE tags SET name = 'prod' WHERE name LIKE 'p%x%'")
            conn.execute("UPDATE tag_history SET name = 'prod' WHERE name LIKE 'p%x%'")
        conn.close()


def test_bisect_budget_beyond_a_week_is_one_line(files: Files):
    args = ["bisect", files.good, "--bench", "py_loop", "--budget", "2147483647"]
    _one_line_error(_invoke(args, files.env()), args, "--budget")


def test_a_100000_character_ref_is_bad_input_not_a_store_error(files: Files):
    args = ["show", "a" * 100_000]
    line = _one_line_error(_invoke(args, files.env()), args, "100000 characters")
    assert len(line) < 300


def test_show_json_escapes_control_and_bidi_characters_losslessly(files: Files):
    args = ["show", "e" * 32, "--format", "json"]
    result = _invoke(args, files.env())
    assert result.exit_code == 0, result.stderr
    for bad in ("\x1b", "\x07", "\u202e", "\x85"):
        assert bad not in result.stdout
    assert json.loads(result.stdout)["role"] == ESC  # the value itself is kept


def test_fleet_openmetrics_escapes_control_and_bidi_characters(files: Files):
    args = ["fleet", "--format", "openmetrics"]
    result = _invoke(args, files.env())
    assert result.exit_code == 0, result.stderr
    for bad in ("\x1b", "\x07", "\u202e", "\x85"):
        assert bad not in result.stdout
    assert "\\\\x1b[2J" in result.stdout  # visible, as the parser gives it back


def test_fleet_json_escapes_control_and_bidi_characters_losslessly(files: Files):
    args = ["fleet", "--format", "json", "--role", ESC]
    result = _invoke(args, files.env())
    assert result.exit_code == 0, result.stderr
    for bad in ("\x1b", "\x07", "\u202e", "\x85"):
        assert bad not in result.stdout
    view = json.loads(result.stdout)
    assert view["role"] == ESC and view["sightings"] == 1  # the value itself is kept


# --- The fuzz test: every command, hostile arguments and files, never a traceback. ---

HOSTILE_VALUES = [
    "",
    " ",
    "-",
    "--",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "2147483647",
    "9" * 30,
    BIG_INT,
    "x" * 20_000,
    SURROGATE,
    ESC,
    "latest",
    "latest:role=" + ESC,
    "latest:" + SURROGATE + "=1",
    "fp:",
    "fp:zz",
    "prod",
    "bbbbbb",
    "k=v",
    "=",
    "a=b,c",
    "/",
    "/dev/null",
    "/proc/self/mem",
    "30m",
    "2026-13-45",
    "text",
    "json",
    "openmetrics",
    "markdown",
    "constraints",
    "py_loop",
]
FILE_SLOTS = ["good", "big_int", "nested_big_int", "surrogate", "fifo", "root", "policy_big_int"]

# Each command with the options it takes; a slot is filled with a hostile value or file.
COMMANDS: List[List[str]] = [
    ["show", "{v}"],
    ["show", "{v}", "--format", "{v}"],
    ["diff", "{v}", "{v}"],
    ["diff", "{v}", "{v}", "--policy", "{v}", "--fail-on", "{v}", "--format", "{v}"],
    ["diff", "{v}", "{v}", "--max-bytes", "{v}", "-o", "{o}"],
    ["list", "--role", "{v}", "--label", "{v}", "--limit", "{v}"],
    ["list", "--format", "{v}", "--db", "{v}"],
    ["tag", "{v}", "{v}"],
    ["tag", "--history", "{v}", "--format", "{v}"],
    ["export", "{v}", "--format", "{v}", "-o", "{o}"],
    ["fleet", "--baseline", "{v}", "--since", "{v}", "--format", "{v}", "--role", "{v}"],
    ["fleet", "--label", "{v}", "--policy", "{v}", "-o", "{o}"],
    ["schema", "{v}"],
    ["recipe", "{v}"],
    ["db", "current", "--db", "{v}"],
    ["db", "info", "--db", "{v}"],
    ["db", "prune", "--older-than", "{v}", "--keep-latest", "{v}", "--dry-run"],
    ["bisect", "{bad}", "--bench", "{v}", "--budget", "{v}", "--max-trials", "{v}"],
    ["bisect", "{v}", "--probes", "{v}", "--budget", "{v}"],
]


def _fill(template: List[str], data: Any, files: Files) -> List[str]:
    out: List[str] = []
    for part in template:
        if part == "{v}":
            use_file = data.draw(st.booleans(), label="file?")
            if use_file:
                slot = data.draw(st.sampled_from(FILE_SLOTS), label="file")
                out.append(str(files.root) if slot == "root" else getattr(files, slot))
            else:
                out.append(data.draw(st.sampled_from(HOSTILE_VALUES), label="value"))
        elif part == "{bad}":
            # Never a good baseline for bisect: it would run real trials.
            slot = data.draw(st.sampled_from(["big_int", "surrogate", "fifo", "root"]))
            out.append(str(files.root) if slot == "root" else getattr(files, slot))
        elif part == "{o}":
            choice = data.draw(st.sampled_from(["fifo", "root", "dev-null", "new", "-"]))
            out.append(
                {
                    "fifo": files.fifo,
                    "root": str(files.root),
                    "dev-null": "/dev/null",
                    "new": str(files.root / "out.txt"),
                    "-": "-",
                }[choice]
            )
        else:
            out.append(part)
    return out


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # a fixed example budget, the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(data=st.data())
def test_fuzz_every_command_never_raises_a_traceback(
    files: Files, monkeypatch: pytest.MonkeyPatch, data: Any
):
    monkeypatch.chdir(files.root)  # no pyproject.toml policy of the repo's; relative paths here
    template = data.draw(st.sampled_from(COMMANDS), label="command")
    args = _fill(template, data, files)
    env_value: Optional[str] = data.draw(
        st.sampled_from([None, "1" + "0" * 23, "1e23", "-5", "10"]), label="max input bytes"
    )
    env = files.env(**({"ENVPARITY_MAX_INPUT_BYTES": env_value} if env_value else {}))
    result = _invoke(args, env)
    _no_traceback(result, args)
    assert result.exit_code in (0, 1, 2, 3, 4), (args, result.exit_code, result.stderr)
    # Nothing was put where a device or FIFO was.
    assert stat.S_ISFIFO(os.lstat(files.fifo).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
