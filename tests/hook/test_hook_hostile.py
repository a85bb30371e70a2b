"""The start-up hook cannot fail to start the server, whatever its options and ENVPARITY_*
variables hold: only an ``--on-drift fail`` refusal stops it.

A property test (hypothesis, fixed example budget) throws hostile values (huge, NaN, infinite,
negative, not UTF-8, 1 MB) at each variable and option in-process, and a few real ``envparity run``
children get every variable hostile at once and must exec the server each time.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from _support import isolated_env
from hook_helpers import envparity_cmd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envparity.hook import load_config, startup_check
from envparity.hook.config import FLAGS, MAX_BUDGET_S, VARIABLES

# Every ENVPARITY_* variable the hook path reads (the options' and the ones read further in).
HOOK_VARIABLES = sorted(
    set(VARIABLES.values())
    | {
        "ENVPARITY_METRICS_FILE",
        "ENVPARITY_DB_TIMEOUT",
        "ENVPARITY_PROBES",
        "ENVPARITY_PROBE_MAX_BYTES",
        "ENVPARITY_SPOOL_MAX",
        "ENVPARITY_MAX_INPUT_BYTES",
    }
)
NOT_UTF8 = os.fsdecode(b"\xff\xfe\x80")  # what Python makes of environment bytes not in UTF-8
HOSTILE = [
    "1e10",
    "99999999999",
    "9" * 5000,
    "1e400",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "-0",
    "0",
    "",
    " ",
    NOT_UTF8,
    "x" * (1 << 20),
    "\x1b[2J\x07\u202e",
    "a=b,=,\x00",
    "/dev/null",
    "/proc",
    "fp:",
    "latest:role=" + NOT_UTF8,
]


def _values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


def test_budget_beyond_time_t_is_clamped_not_an_overflow() -> None:
    """The issue's case: ENVPARITY_BUDGET_S=1e10 / --budget 99999999999 made Thread.join raise
    OverflowError and the server never started."""
    config, problems = load_config({"ENVPARITY_BUDGET_S": "1e10"})
    assert config.budget_s == MAX_BUDGET_S
    assert problems == [f"ENVPARITY_BUDGET_S='1e10': more than {MAX_BUDGET_S:g} s; using 3600"]
    config, problems = load_config({}, budget_s="99999999999")
    assert config.budget_s == MAX_BUDGET_S and "--budget" in problems[0]


def test_startup_check_with_a_huge_budget_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = isolated_env(tmp_path, tmp_path / "home")
    out = io.StringIO()
    assert startup_check(budget_s=1e10, environ=env, stream=out) is None
    assert "using 3600" in out.getvalue()


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    options=st.dictionaries(st.sampled_from(sorted(FLAGS)), _values(), max_size=4),
    environ=st.dictionaries(st.sampled_from(HOOK_VARIABLES), _values(), max_size=6),
)
def test_load_config_never_raises_and_clamps(options: Dict[str, str], environ: Dict[str, str]):
    config, problems = load_config(environ, **options)
    assert 0 < config.budget_s <= MAX_BUDGET_S and math.isfinite(config.budget_s)
    assert config.on_drift in ("warn", "fail")
    for line in problems:
        assert len(line) < 2000  # a 1 MB value is not repeated into the log whole


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    variable=st.sampled_from(HOOK_VARIABLES + [f"option:{name}" for name in sorted(FLAGS)]),
    value=st.sampled_from(HOSTILE),
)
def test_startup_check_survives_any_hostile_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
):
    """In-process: the check returns (never raises) with the value in any variable or option,
    unless it is a refusal that was asked for (``on_drift=fail``)."""
    monkeypatch.chdir(tmp_path)  # a relative path in a value (a SQLite URL) lands here
    env = isolated_env(tmp_path, tmp_path / "home")
    options: Dict[str, str] = {}
    if variable.startswith("option:"):
        options[variable.split(":", 1)[1]] = value
    else:
        env[variable] = value
    out = io.StringIO()
    startup_check(environ=env, stream=out, **options)  # type: ignore[arg-type]
    assert "envparity.startup" in out.getvalue()


@pytest.mark.parametrize(
    "value",
    [
        b"1e10",
        b"nan",
        b"-inf",
        b"-1",
        b"\xff\xfe\x80",
        b"x" * 100_000,  # Linux takes at most 128 KiB per variable; 1 MB is tested in-process
    ],
    ids=["huge", "nan", "inf", "negative", "not-utf8", "100kB"],
)
def test_envparity_run_starts_the_server_with_every_variable_hostile(tmp_path: Path, value: bytes):
    env: Dict[bytes, bytes] = {
        os.fsencode(k): os.fsencode(v)
        for k, v in isolated_env(tmp_path, tmp_path / "home").items()
    }
    for name in HOOK_VARIABLES:
        if name not in ("ENVPARITY_SPOOL_DIR",):  # keep the spool inside the test
            env[name.encode()] = value
    flags = []
    for flag in ("--budget", "--role", "--label", "--fail-on", "--on-drift"):
        flags += [flag, os.fsdecode(value)]
    done = subprocess.run(
        envparity_cmd("run", *flags, "--", sys.executable, "-c", "print('server up')"),
        env=env,  # type: ignore[arg-type]  # bytes keys and values: what a container may hold
        cwd=str(tmp_path),
        capture_output=True,
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == 0, stderr
    assert done.stdout == b"server up\n", stderr
    assert "Traceback" not in stderr
