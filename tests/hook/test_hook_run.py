"""``envparity run -- CMD`` in real child processes: CMD is exec'd (same PID, arguments,
environment, stdin, signals, exit code), drift is logged or refused, and nothing envparity fails
at stops CMD."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hook_helpers import CLOSED_PG_URL, envparity_cmd, log_record

from envparity.model import Snapshot

# The child reports what it got, as one JSON line on stdout.
REPORT = (
    "import json, os, sys; "
    "print(json.dumps({'pid': os.getpid(), 'argv': sys.argv[1:], "
    "'marker': os.environ.get('HOOK_MARKER'), 'stdin': sys.stdin.read(), "
    "'fds': len(os.listdir('/proc/self/fd'))}))"
)


def run(args: List[str], env: Dict[str, str], *, timeout: float = 60, **kw: Any):
    # Outside any git checkout (the cwd is the test's temp dir, as the baseline's was): a checkout
    # would make a code finding, since the hook cannot run git to see whether it is dirty.
    kw.setdefault("cwd", env["TMPDIR"])
    return subprocess.run(
        envparity_cmd("run", *args), env=env, capture_output=True, text=True, timeout=timeout, **kw
    )


def test_cmd_keeps_the_pid_and_gets_args_env_and_stdin(hook_env, write_baseline) -> None:
    from envparity.store import open_store

    env = hook_env(HOOK_MARKER="from-the-environment")
    open_store(f"sqlite:///{env['ENVPARITY_HOME']}/envparity.db").close()  # a real store
    proc = subprocess.Popen(
        envparity_cmd(
            "run",
            "--baseline",
            str(write_baseline()),
            "--",
            sys.executable,
            "-c",
            REPORT,
            "a b",
            "--flag",
            "",
        ),
        env=env,
        cwd=env["TMPDIR"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate("input for the server\n", timeout=60)
    assert proc.returncode == 0, err
    got = json.loads(out)
    assert got == {
        "pid": proc.pid,  # exec, not a child process: signals and exit codes are the server's
        "argv": ["a b", "--flag", ""],
        "marker": "from-the-environment",
        "stdin": "input for the server\n",
        # stdin, stdout, stderr and the one listdir opened: nothing of envparity's (the
        # database, the spool) leaks into the server.
        "fds": 4,
    }
    record = log_record(err)
    assert (record["stored"], record["verdict"]) == ("store", "none")
    assert record["action"] == f"starting {Path(sys.executable).name}"
    summary = [line for line in err.splitlines() if line.startswith("envparity: ")]
    assert len(summary) == 1 and "no drift" in summary[0], err


def test_exit_code_is_the_servers(hook_env) -> None:
    done = run(["--", sys.executable, "-c", "import sys; sys.exit(7)"], hook_env())
    assert done.returncode == 7, done.stderr


def test_sigterm_reaches_the_server(hook_env, tmp_path: Path) -> None:
    got = tmp_path / "got-sigterm"
    server = (
        "import signal, sys, time\n"
        "def stop(signum, frame):\n"
        f"    open({str(got)!r}, 'w').write(str(signum))\n"
        "    sys.exit(42)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        envparity_cmd("run", "--", sys.executable, "-c", server),
        env=hook_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 42
    assert got.read_text() == str(int(signal.SIGTERM))
    proc.communicate()


def test_on_drift_fail_refuses_with_78_and_does_not_start(
    hook_env, write_baseline, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    done = run(
        [
            "--baseline",
            str(write_baseline(drift=True)),
            "--on-drift",
            "fail",
            "--",
            sys.executable,
            "-c",
            f"open({str(started)!r}, 'w')",
        ],
        hook_env(),
    )
    assert done.returncode == 78, done.stderr
    assert not started.exists()
    record = log_record(done.stderr)
    assert (record["verdict"], record["failed"], record["action"]) == (
        "error",
        True,
        f"refusing to start {Path(sys.executable).name}",
    )
    assert record["counts"]["error"] >= 1
    # One summary line, one JSON line: the refusal is not repeated as a third line.
    assert len(done.stderr.strip().splitlines()) == 2, done.stderr


def test_on_drift_warn_logs_the_drift_and_starts(hook_env, write_baseline) -> None:
    env = hook_env(ENVPARITY_BASELINE=str(write_baseline(drift=True)), ENVPARITY_ON_DRIFT="warn")
    done = run(["--", sys.executable, "-c", "print('served')"], env)
    assert (done.returncode, done.stdout) == (0, "served\n"), done.stderr
    record = log_record(done.stderr)
    assert record["verdict"] == "error" and record["on_drift"] == "warn"
    assert "error drift" in done.stderr and "pydantic" not in done.stdout


def test_fail_on_from_the_environment_raises_the_bar(hook_env, write_baseline) -> None:
    # The drift is an error; with fail-on never, --on-drift fail still starts the server.
    env = hook_env(ENVPARITY_FAIL_ON="never", ENVPARITY_ON_DRIFT="fail")
    done = run(
        ["--baseline", str(write_baseline(drift=True)), "--", sys.executable, "-c", "pass"], env
    )
    assert done.returncode == 0, done.stderr
    assert log_record(done.stderr)["fail_on"] == "never"


def test_database_down_starts_the_server_and_spools_then_flush_stores_once(
    hook_env, write_baseline, tmp_path: Path
) -> None:
    # How long the hook takes with the database down is a benchmark's question
    # (scripts/bench_startup.py, "unreachable"); here, what it does: no wait on the refused
    # connection (the budget is never reached), the server starts, the snapshot is spooled.
    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL, ENVPARITY_BUDGET_S="60")
    done = run(
        ["--baseline", str(write_baseline()), "--", sys.executable, "-c", "print('up')"], env
    )
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    record = log_record(done.stderr)
    assert record["timed_out"] is False, record
    assert record["stored"] == "spool" and record["verdict"] == "none"
    assert any("127.0.0.1:1" in p for p in record["problems"])  # the redacted URL names the store
    spooled = Snapshot.model_validate_json(Path(str(record["spool_path"])).read_text())
    assert spooled.snapshot_id == record["snapshot_id"]

    url = f"sqlite:///{tmp_path / 'store.db'}"
    flushes = [
        subprocess.run(
            envparity_cmd("db", "flush", "--db", url),
            env=hook_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        for _ in range(2)
    ]
    assert [f.returncode for f in flushes] == [0, 0], flushes[0].stderr
    assert "1 stored" in flushes[0].stdout and "0 stored" in flushes[1].stdout
    from envparity.store import open_store

    with open_store(url) as store:
        assert [s.snapshot_id for s in store.list_snapshots()] == [spooled.snapshot_id]


def test_a_database_that_never_answers_does_not_hold_the_server(hook_env, tmp_path: Path) -> None:
    import socket

    # A server that accepts connections and never answers: libpq would wait its whole timeout.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        env = hook_env(
            ENVPARITY_DB_URL=f"postgresql+psycopg://u:secret-pw@127.0.0.1:{port}/x",
            ENVPARITY_BUDGET_S="1.5",
        )
        start = time.monotonic()
        done = run(["--", sys.executable, "-c", "print('up')"], env)
        elapsed = time.monotonic() - start
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    # Either the budget or the connect timeout (derived from what is left of it) ends the wait;
    # the bound allows for a busy 2-core runner starting the interpreters.
    assert elapsed < 1.5 + 2.5, elapsed
    assert log_record(done.stderr)["stored"] == "spool"
    assert "secret-pw" not in done.stderr


def test_a_locked_database_is_cut_off_by_the_budget_and_the_snapshot_spooled(
    hook_env, tmp_path: Path
) -> None:
    import sqlite3

    from envparity.store import open_store

    db = tmp_path / "store.db"
    open_store(f"sqlite:///{db}").close()
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock (busy timeout: 5 s)
    try:
        env = hook_env(ENVPARITY_DB_URL=f"sqlite:///{db}", ENVPARITY_BUDGET_S="1.5")
        start = time.monotonic()
        done = run(["--", sys.executable, "-c", "print('up')"], env)
        elapsed = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    assert elapsed < 1.5 + 2.5, elapsed
    record = log_record(done.stderr)
    # The store gets half the budget, then the check goes on without it (the cause named).
    assert (record["timed_out"], record["stored"]) == (False, "spool"), done.stderr
    assert "is locked by another writer for longer than" in done.stderr


def test_restart_with_the_database_down_compares_with_the_cached_baseline(
    hook_env, write_baseline, tmp_path: Path
) -> None:
    from envparity.store import open_store

    where = tmp_path / "volume"
    where.mkdir()
    url = f"sqlite:///{where / 'store.db'}"
    with open_store(url) as store:
        baseline = Snapshot.model_validate_json(write_baseline(drift=True).read_text())
        store.save(baseline)
        store.tag(baseline.snapshot_id, "fraud-train")
    env = hook_env(ENVPARITY_DB_URL=url, ENVPARITY_BASELINE="fraud-train")
    first = run(["--", sys.executable, "-c", "pass"], env)
    assert first.returncode == 0, first.stderr
    record = log_record(first.stderr)
    assert (record["baseline_source"], record["stored"], record["verdict"]) == (
        "store",
        "store",
        "error",
    )
    # The volume is gone (a missing file alone would be a first start: created and migrated).
    where.rename(tmp_path / "elsewhere")
    second = run(["--", sys.executable, "-c", "pass"], env)
    assert second.returncode == 0, second.stderr
    record = log_record(second.stderr)
    assert (record["baseline_source"], record["stored"], record["verdict"]) == (
        "cache",
        "spool",
        "error",
    )
    assert "(cached)" in second.stderr


def test_bad_baseline_ref_is_logged_once_and_cmd_starts(hook_env, tmp_path: Path) -> None:
    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL)
    done = run(
        ["--baseline", str(tmp_path / "missing.json"), "--", sys.executable, "-c", "print('up')"],
        env,
    )
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    record = log_record(done.stderr)
    assert record["verdict"] is None
    assert sum("missing.json" in p for p in record["problems"]) == 1


def test_bad_baseline_ref_with_on_drift_fail_refuses(hook_env, tmp_path: Path) -> None:
    done = run(
        ["--baseline", str(tmp_path / "missing.json"), "--on-drift", "fail", "--", "true"],
        hook_env(),
    )
    assert done.returncode == 78
    assert "cannot compare with baseline" in done.stderr


def test_no_home_and_read_only_spool_dir_still_start(hook_env, tmp_path: Path) -> None:
    env = hook_env(
        HOME=None,
        ENVPARITY_HOME=None,
        XDG_CACHE_HOME=None,
        ENVPARITY_DB_URL=CLOSED_PG_URL,
        ENVPARITY_SPOOL_DIR="/proc/envparity-spool",  # read-only, even for root
    )
    done = run(["--", sys.executable, "-c", "print('up')"], env)
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    record = log_record(done.stderr)
    # Kept in the per-user temp directory, the last fallback.
    assert str(record["spool_path"]).startswith(env["TMPDIR"])


def test_bad_settings_are_logged_and_cmd_starts(hook_env) -> None:
    env = hook_env(ENVPARITY_BUDGET_S="fast", ENVPARITY_ON_DRIFT="maybe")
    done = run(["--on-drift", "sometimes", "--", sys.executable, "-c", "print('up')"], env)
    assert (done.returncode, done.stdout) == (0, "up\n"), done.stderr
    problems = log_record(done.stderr)["problems"]
    assert any("ENVPARITY_BUDGET_S='fast'" in p for p in problems)
    assert any("--on-drift='sometimes'" in p for p in problems)


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        (["/nonexistent/server"], 127, "cannot start '/nonexistent/server'"),
        (["/proc"], 126, "cannot start '/proc'"),
        ([], 2, "no command to start: give it after --"),
    ],
)
def test_a_command_that_cannot_start_is_one_line_and_a_shell_exit_code(
    hook_env, command: List[str], code: int, message: str
) -> None:
    done = run(["--", *command], hook_env())
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_hook_runs_no_subprocess_and_imports_nothing_heavy(hook_env, write_baseline) -> None:
    from envparity.store import open_store

    env = hook_env()
    open_store(f"sqlite:///{env['ENVPARITY_HOME']}/envparity.db").close()  # the default store
    probe = (
        "import subprocess, sys\n"
        "calls = []\n"
        "real = subprocess.Popen.__init__\n"
        "def spy(self, *a, **k):\n"
        "    calls.append(a)\n"
        "    real(self, *a, **k)\n"
        "subprocess.Popen.__init__ = spy\n"
        "import envparity\n"
        f"report = envparity.startup_check(baseline={str(write_baseline())!r})\n"
        "heavy = sorted(m for m in ('torch', 'tensorflow', 'jax', 'numpy', 'sqlalchemy', "
        "'typer') if m in sys.modules)\n"
        "print(report.verdict, len(calls), heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=env["TMPDIR"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # No SQLAlchemy either: an existing SQLite store takes the snapshot through stdlib sqlite3.
    assert done.stdout == "none 0 []\n"
    assert log_record(done.stderr)["stored"] == "store"


def test_startup_check_returns_the_report_in_process(hook_env, write_baseline) -> None:
    import io

    import envparity

    log = io.StringIO()
    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL)
    report = envparity.startup_check(
        baseline=str(write_baseline(drift=True)), environ=env, stream=log
    )
    assert report is not None and report.verdict == "error"
    assert log_record(log.getvalue())["action"] == "continuing"


def test_startup_check_on_drift_fail_raises(hook_env, write_baseline) -> None:
    import io

    import envparity
    from envparity.errors import DriftRefused

    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL)
    with pytest.raises(DriftRefused, match="drift error is at or above fail-on error"):
        envparity.startup_check(
            baseline=str(write_baseline(drift=True)),
            on_drift="fail",
            environ=env,
            stream=io.StringIO(),
        )


def test_startup_check_in_the_background_returns_at_once_and_never_raises(
    hook_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import tempfile
    import threading

    import envparity

    # Nothing is writable and the baseline is missing: still nothing reaches the caller.
    monkeypatch.setattr(tempfile, "tempdir", "/proc")
    env = hook_env(
        HOME=None,
        XDG_CACHE_HOME=None,
        ENVPARITY_HOME="/proc/envparity-home",
        ENVPARITY_DB_URL=CLOSED_PG_URL,
    )
    log = io.StringIO()
    start = time.monotonic()
    result = envparity.startup_check(
        baseline=str(tmp_path / "missing.json"),
        on_drift="fail",
        background=True,
        spool_dir="/proc/envparity-spool",
        environ=env,
        stream=log,
    )
    assert result is None and time.monotonic() - start < 0.1
    for thread in threading.enumerate():
        if thread.name == "envparity-startup-check":
            thread.join(30)
    record = log_record(log.getvalue())
    assert record["action"] == "checked in the background" and record["stored"] == "none"
    problems = "\n".join(record["problems"])
    assert "missing.json" in problems
    assert "not kept: no writable spool directory" in problems
    assert "a background check cannot refuse start-up" in problems


def test_example_entrypoint_labels_the_deployment_and_execs(hook_env) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "entrypoint.sh"
    env = hook_env(
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        ENVPARITY_LABELS="model=fraud",
        MODEL_VERSION="7",
        IMAGE_TAG="fraud:1.2",
    )
    proc = subprocess.Popen(
        ["sh", str(script), sys.executable, "-c", "import os; print(os.getppid())"],
        env=env,
        cwd=env["TMPDIR"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert int(out) == os.getpid()  # sh exec'd envparity, which exec'd the server: one process
    labels = log_record(err)["labels"]
    assert labels == {"model": "fraud", "model_version": "7", "image": "fraud:1.2"}
    empty = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert empty.returncode == 2 and "no server command given" in empty.stderr


def test_a_refused_database_costs_no_sqlalchemy_import(hook_env) -> None:
    probe = (
        "import sys, envparity\n"
        "envparity.startup_check()\n"
        "print('sqlalchemy' in sys.modules, 'psycopg' in sys.modules)\n"
    )
    env = hook_env(ENVPARITY_DB_URL=CLOSED_PG_URL)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=env["TMPDIR"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False False\n"
    record = log_record(done.stderr)
    assert record["stored"] == "spool"
    assert record["problems"] == [
        "snapshot not stored: store postgresql+psycopg://***@127.0.0.1:1/x: "
        "cannot connect to 127.0.0.1:1 (Connection refused)"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u@/db?host=/var/run/postgresql",  # a Unix socket: the store's job
        "postgresql+psycopg:///db",
        "postgresql+psycopg://u@h1:5432,h2:5432/db",  # several hosts
        "sqlite:////tmp/x.db",
    ],
)
def test_the_preflight_leaves_what_it_cannot_judge_to_the_store(url: str) -> None:
    from envparity.hook.check import _preflight

    _preflight(url, 0.5)  # no error: open_store decides


def test_the_preflight_passes_a_listening_server() -> None:
    import socket

    from envparity.errors import StoreError
    from envparity.hook.check import _preflight

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        _preflight(f"postgres://u:pw@127.0.0.1:{listener.getsockname()[1]}/x", 0.5)
    with pytest.raises(StoreError, match=r"\*\*\*@127.0.0.1:1/x: cannot connect"):
        _preflight(CLOSED_PG_URL.replace("postgres@", "u:pw@"), 0.5)


def test_summary_line_names_the_top_findings_and_the_diff_command(
    hook_env, write_baseline
) -> None:
    # The log line is what an on-call engineer reads first: the worst findings, then the command
    # that shows them all, runnable as printed (the baseline file and the snapshot's id).
    baseline = write_baseline(drift=True)
    # A generous budget and no deferred store (ENVPARITY_DEFER=0, where the hook defers): the
    # snapshot is stored before CMD starts; should it still be spooled, the test flushes.
    env = hook_env(
        ENVPARITY_BASELINE=str(baseline), ENVPARITY_ON_DRIFT="warn", ENVPARITY_BUDGET_S="120",
        ENVPARITY_DEFER="0",
    )
    done = run(["--", sys.executable, "-c", "pass"], env)
    assert done.returncode == 0, done.stderr
    summary = done.stderr.splitlines()[0]
    record = log_record(done.stderr)
    victim = next(
        p.name
        for p in Snapshot.model_validate_json(baseline.read_text()).packages
        if p.version == "0.0.1"
    )
    assert f"top: error package:{victim} 0.0.1 -> " in summary, summary
    command = f"envparity diff {baseline} {record['snapshot_id'][:12]}"
    assert f"; all: {command};" in summary, summary
    if record["stored"] != "store":  # the line says to flush first; so does the test
        flushed = subprocess.run(
            envparity_cmd("db", "flush"), env=env, capture_output=True, text=True, timeout=120
        )
        assert flushed.returncode == 0, flushed.stderr
    # The command works as printed, and shows the finding the line named.
    shown = subprocess.run(
        envparity_cmd(*command.split()[1:]), env=env, capture_output=True, text=True,
        cwd=env["TMPDIR"], timeout=120,
    )
    assert shown.returncode == 1 and f"package:{victim}" in shown.stdout, shown.stderr
