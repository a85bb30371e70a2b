"""The fault matrix: a database that is down, crashed, frozen, exhausted, locked, damaged, read-only
or full; kill -9 in the middle of a snapshot; hostile inputs. Each case asserts the exit code, the
one-line message, and that every snapshot captured is stored, spooled or written to ``-o``.

Every child process has a timeout, so no case can hang the suite; ENVPARITY_DB_TIMEOUT is 2 s.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

import pytest
from faults_pg import Instance
from faults_table import ROWS

from envparity.errors import BadInput

TIMEOUT_S = 2.0
REFUSED_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x"
Env = Callable[..., Dict[str, str]]


class Done:
    def __init__(self, rc: int, out: str, err: str, elapsed: float) -> None:
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed

    def record(self) -> Dict[str, object]:
        lines = [ln for ln in self.err.splitlines() if '"envparity.startup"' in ln]
        assert len(lines) == 1, self.err
        return dict(json.loads(lines[0]))


def envparity(*args: str, env: Dict[str, str], timeout: float = 60, cwd: str = "") -> Done:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        env=env,
        capture_output=True,
        timeout=timeout,
        cwd=cwd or None,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    out = done.stdout.decode("utf-8", "replace")
    return Done(done.returncode, out, err, time.monotonic() - start)


def one_error(done: Done, code: int, *needles: str) -> str:
    """The single ``envparity: error:`` line of a failed command, checked for each needle."""
    assert done.rc == code, (done.rc, done.err)
    errors = [ln for ln in done.err.splitlines() if ln.startswith("envparity: error:")]
    assert len(errors) == 1, done.err
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]
    return errors[0]


class Ledger:
    """Every snapshot a case captured, and where it ended up."""

    def __init__(self, case: str, expected: str) -> None:
        self.case, self.expected = case, expected
        self.spooled: Dict[str, str] = {}
        self.output: Set[str] = set()
        self.captured: Set[str] = set()
        self.hook_stored: Set[str] = set()

    def cli(self, output: Path) -> None:
        if output.exists():
            sid = json.loads(output.read_text())["snapshot_id"]
            self.captured.add(sid)
            self.output.add(sid)

    def hook(self, done: Done) -> Dict[str, object]:
        record = done.record()
        sid = record["snapshot_id"]
        assert isinstance(sid, str), record
        self.captured.add(sid)
        assert record["stored"] in ("store", "spool"), record
        if record["stored"] == "spool":
            assert os.path.isfile(str(record["spool_path"])), record
            self.spooled[sid] = str(record["spool_path"])
        else:
            self.hook_stored.add(sid)
        return record

    def finish(self, observed: str, url: Optional[str]) -> None:
        stored: Set[str] = set()
        if url:
            from envparity.store import open_store

            with open_store(url, migrate=False) as store:
                for sid in self.captured:
                    try:
                        store.get(sid)
                        stored.add(sid)
                    except BadInput:
                        pass
        still_spooled = {s for s, p in self.spooled.items() if os.path.isfile(p)}
        lost = self.captured - stored - still_spooled - self.output
        ROWS.append(
            {
                "case": self.case,
                "expected": self.expected,
                "observed": observed,
                "captured": len(self.captured),
                "stored": len(stored),
                "spooled": len(still_spooled),
                "output": len(self.output),
                "lost": len(lost),
            }
        )
        assert not lost, (self.case, lost)


def hook(env: Dict[str, str], db: str, *extra: str, budget: str = "4") -> Tuple[str, ...]:
    return ("run", "--db", db, "--budget", budget, *extra, "--", sys.executable, "-c", "pass")


def reference_s(env: Env) -> float:
    """How long `list` takes to fail on a refused connection: start-up and imports, no wait."""
    done = envparity("list", "--db", REFUSED_PG, env=env())
    assert done.rc == 3, done.err
    return done.elapsed


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def training() -> object:
    """A snapshot of this environment, captured in-process once for the module."""
    from envparity.collect.capture import capture

    return capture(role="training")


def _tagged(url: str, snap: object, ledger: Ledger) -> str:
    """``snap`` saved in ``url`` (created and migrated when new) and tagged ``base``."""
    from envparity.store import open_store

    with open_store(url) as store:
        store.save(snap)  # type: ignore[arg-type]
        sid = snap.snapshot_id  # type: ignore[attr-defined]
        store.tag(sid, "base")
    ledger.captured.add(sid)
    return str(sid)


def _baseline(pg: Instance, env: Env, training: object, ledger: Ledger) -> str:
    """The training snapshot tagged `base`, and one healthy start that caches it."""
    sid = _tagged(pg.url, training, ledger)
    first = envparity(*hook(env(), pg.url, "--baseline", "base"), env=env())
    assert first.rc == 0, first.err
    assert ledger.hook(first)["baseline_source"] == "store"
    return sid


def _flush(pg_url: str, env: Env) -> None:
    done = envparity("db", "flush", "--db", pg_url, env=env())
    assert done.rc == 0, done.err
    assert "flushed the spool" in done.out


def test_pg_sigstopped_postmaster(pg: Instance, env: Env, tmp_path: Path, training: object) -> None:
    ledger = Ledger("PostgreSQL postmaster SIGSTOPped", "exit 3 in timeout+1 s; hook uses cache")
    _baseline(pg, env, training, ledger)
    ref = reference_s(env)
    pg.freeze()
    try:
        listed = envparity("list", "--db", pg.url, env=env(), timeout=30)
        line = one_error(listed, 3, f"127.0.0.1:{pg.port}", "2 s", "ENVPARITY_DB_TIMEOUT")
        assert "***" not in line or "postgres@" not in line
        # The slower of two references around it: start-up varies on a busy runner.
        ref = max(ref, reference_s(env))
        assert listed.elapsed <= ref + TIMEOUT_S + 1.0, (listed.elapsed, ref)
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", pg.url, "-o", str(out), env=env(), timeout=30)
        one_error(snap, 3, "not stored", "ENVPARITY_DB_TIMEOUT", f"written to {out}")
        ledger.cli(out)
        started = envparity(
            *hook(env(), pg.url, "--baseline", "base", "--on-drift", "fail", budget="4"),
            env=env(),
            timeout=30,
        )
        assert started.rc == 0, started.err  # the server started: compared with the cache
        record = ledger.hook(started)
        assert record["baseline_source"] == "cache", record
        assert record["stored"] == "spool", record
        assert started.elapsed <= ref + 4 + 1.5, started.elapsed
    finally:
        pg.thaw()
    _flush(pg.url, env)
    ledger.finish(f"exit 3 after {listed.elapsed - ref:.1f} s more than a refused connect; "
                  "hook started from the cache", pg.url)


def test_pg_restarted(pg: Instance, env: Env, tmp_path: Path) -> None:
    ledger = Ledger("PostgreSQL restarted", "exit 3 while down; hook spools; flush stores")
    pg.stop()
    try:
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", pg.url, "-o", str(out), env=env())
        one_error(snap, 3, "not stored", f"127.0.0.1:{pg.port}")
        ledger.cli(out)
        ledger.hook(envparity(*hook(env(), pg.url), env=env()))
    finally:
        pg.start()
    ledger.hook(envparity(*hook(env(), pg.url), env=env()))
    _flush(pg.url, env)
    ledger.finish("exit 3 (connection refused); spooled, flushed after the restart", pg.url)


def test_pg_crashed(pg: Instance, env: Env, tmp_path: Path) -> None:
    ledger = Ledger("PostgreSQL crashed (kill -9)", "exit 3; hook spools; flush after recovery")
    pg.crash()
    try:
        listed = envparity("list", "--db", pg.url, env=env())
        one_error(listed, 3, f"127.0.0.1:{pg.port}")
        ledger.hook(envparity(*hook(env(), pg.url), env=env()))
    finally:
        pg.start()
    _flush(pg.url, env)
    ledger.finish("exit 3; spooled, flushed after crash recovery", pg.url)


def test_pg_out_of_connections(pg: Instance, env: Env, tmp_path: Path) -> None:
    import psycopg

    ledger = Ledger("PostgreSQL out of connections", "exit 3 naming the cause; hook spools")
    held: List[psycopg.Connection] = []
    try:
        while True:
            try:
                held.append(
                    psycopg.connect(
                        host="127.0.0.1", port=pg.port, user="postgres", connect_timeout=5
                    )
                )
            except psycopg.OperationalError:
                break
            assert len(held) < 50
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", pg.url, "-o", str(out), env=env())
        one_error(snap, 3, "too many clients")
        ledger.cli(out)
        ledger.hook(envparity(*hook(env(), pg.url), env=env()))
    finally:
        for conn in held:
            conn.close()
    _flush(pg.url, env)
    ledger.finish("exit 3 (too many clients); spooled, flushed", pg.url)


def test_pg_table_locked(pg: Instance, env: Env, tmp_path: Path) -> None:
    import psycopg

    ledger = Ledger("PostgreSQL sightings locked", "exit 3 within timeout+1 s naming the lock")
    ref = reference_s(env)
    holder = psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres")
    try:
        holder.execute("LOCK TABLE sightings IN ACCESS EXCLUSIVE MODE")
        listed = envparity("list", "--db", pg.url, env=env(), timeout=30)
        one_error(listed, 3, "lock")
        ref = max(ref, reference_s(env))
        assert listed.elapsed <= ref + TIMEOUT_S + 1.0, (listed.elapsed, ref)
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", pg.url, "-o", str(out), env=env(), timeout=30)
        one_error(snap, 3, "lock", "not stored")
        ledger.cli(out)
        ledger.hook(envparity(*hook(env(), pg.url), env=env(), timeout=30))
    finally:
        holder.rollback()
        holder.close()
    _flush(pg.url, env)
    ledger.finish(f"exit 3 after {listed.elapsed - ref:.1f} s more than a refused connect", pg.url)


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_store(url: str, training: object, ledger: Ledger) -> str:
    return _tagged(url, training, ledger)


def test_sqlite_locked(env: Env, tmp_path: Path, training: object) -> None:
    ledger = Ledger("SQLite locked by another writer", "exit 3 naming the lock; hook spools")
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    _sqlite_store(url, training, ledger)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", url, "-o", str(out), env=env(ENVPARITY_DB_TIMEOUT="1"))
        one_error(snap, 3, "locked", "ENVPARITY_DB_TIMEOUT")
        ledger.cli(out)
        record = ledger.hook(envparity(*hook(env(), url, "--baseline", "base"), env=env()))
        assert record["baseline_source"] == "store", record  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _flush(url, env)
    ledger.finish("exit 3 (locked, timeout named); hook compared and spooled", url)


def test_sqlite_corrupted(env: Env, tmp_path: Path) -> None:
    ledger = Ledger("SQLite file corrupted", "exit 3 saying it is damaged; hook spools")
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not a database" * 500)
    url = f"sqlite:///{path}"
    out = tmp_path / "s.json"
    snap = envparity("snapshot", "--db", url, "-o", str(out), env=env())
    one_error(snap, 3, "damaged", str(path))
    ledger.cli(out)
    one_error(envparity("list", "--db", url, env=env()), 3, "damaged")
    ledger.hook(envparity(*hook(env(), url), env=env()))
    ledger.finish("exit 3 (damaged or not a SQLite database); spooled", None)


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.skip("mounting a size-limited or read-only file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        timeout=20,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=20)


def test_sqlite_read_only_store_still_serves_reads(
    env: Env, tmp_path: Path, training: object
) -> None:
    ledger = Ledger("SQLite store on a read-only mount", "writes: exit 3 read-only; reads work")
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "16m")
    try:
        url = f"sqlite:///{mnt / 'store.db'}"
        sid = _sqlite_store(url, training, ledger)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True, timeout=20)
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", url, "-o", str(out), env=env())
        one_error(snap, 3, "read-only", str(mnt))
        ledger.cli(out)
        listed = envparity("list", "--db", url, env=env())
        assert listed.rc == 0 and sid[:12] in listed.out, listed.err
        record = ledger.hook(envparity(*hook(env(), url, "--baseline", "base"), env=env()))
        assert record["baseline_source"] == "store", record
        assert record["stored"] == "spool", record
        ledger.finish("exit 3 (read-only directory named); list and baseline read it", url)
    finally:
        _umount(mnt)


def test_sqlite_disk_full(env: Env, tmp_path: Path, training: object) -> None:
    ledger = Ledger("SQLite disk full", "exit 3 saying the disk is full; hook spools elsewhere")
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "4m")
    try:
        url = f"sqlite:///{mnt / 'store.db'}"
        _sqlite_store(url, training, ledger)
        with open(mnt / "filler", "wb", buffering=0) as f:  # nothing left to flush at close
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", url, "-o", str(out), env=env())
        one_error(snap, 3, "full", str(mnt))
        ledger.cli(out)
        record = ledger.hook(envparity(*hook(env(), url, "--baseline", "base"), env=env()))
        assert record["stored"] == "spool", record
        os.unlink(mnt / "filler")
        _flush(url, env)
        ledger.finish("exit 3 (disk full named); spooled, flushed once space was back", url)
    finally:
        _umount(mnt)


def test_kill_9_during_snapshots_leaves_a_sound_store(
    env: Env, tmp_path: Path, training: object
) -> None:
    ledger = Ledger("kill -9 during snapshot (5x)", "store intact; what was captured is kept")
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    _sqlite_store(url, training, ledger)
    rng = random.Random(16)
    for i in range(5):
        out = tmp_path / f"k{i}.json"
        child = subprocess.Popen(
            [sys.executable, "-m", "envparity", "snapshot", "--db", url, "-o", str(out)],
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.6))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        ledger.cli(out)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert envparity("list", "--db", url, env=env()).rc == 0
    ledger.finish("integrity_check ok; every -o file written is whole", url)


def test_first_start_creates_and_migrates_the_sqlite_store(env: Env, tmp_path: Path) -> None:
    ledger = Ledger("hook first start, no SQLite file yet", "store created, migrated, stored")
    home = tmp_path / "fresh-home"
    home.mkdir()
    e = env(ENVPARITY_HOME=str(home))
    # A generous budget: migrating imports Alembic, slow on a busy runner; what is checked is
    # that the store is created and migrated, not spooled as having "no schema".
    record = ledger.hook(
        envparity("run", "--budget", "15", "--", sys.executable, "-c", "pass", env=e)
    )
    assert record["stored"] == "store", record
    ledger.finish("created and migrated; stored", f"sqlite:///{home / 'envparity.db'}")


def test_failed_first_open_leaves_no_empty_file(env: Env, tmp_path: Path) -> None:
    ledger = Ledger("store dir read-only, no file yet", "exit 3 naming the directory; no file")
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "1m")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True, timeout=20)
        url = f"sqlite:///{mnt / 'store.db'}"
        out = tmp_path / "s.json"
        snap = envparity("snapshot", "--db", url, "-o", str(out), env=env())
        one_error(snap, 3, "read-only", str(mnt))
        ledger.cli(out)
        assert not (mnt / "store.db").exists()
        ledger.hook(envparity(*hook(env(), url), env=env()))
        assert not (mnt / "store.db").exists()
        ledger.finish("exit 3 (read-only directory); no file left; spooled", None)
    finally:
        _umount(mnt)


# --- the spool --------------------------------------------------------------------------------


def test_spool_overflow_is_counted_logged_and_reported(env: Env, tmp_path: Path) -> None:
    ledger = Ledger("spool over ENVPARITY_SPOOL_MAX=3 (5 starts)", "2 dropped, counted, reported")
    e = env(ENVPARITY_SPOOL_MAX="3")
    last = None
    for _ in range(5):
        last = envparity(*hook(e, REFUSED_PG, budget="3"), env=e)
        record = last.record()
        assert record["stored"] == "spool", record
    assert last is not None
    assert "2 oldest spooled snapshots dropped" in last.err, last.err
    url = f"sqlite:///{tmp_path / 'flushed.db'}"
    flushed = envparity("db", "flush", "--db", url, env=e)
    assert flushed.rc == 0, flushed.err
    assert "3 stored" in flushed.out and "2 dropped earlier (spool full)" in flushed.out
    assert "2 oldest spooled snapshots dropped" in flushed.err
    ROWS.append(
        {
            "case": ledger.case,
            "expected": ledger.expected,
            "observed": "log line and `db flush` say 2 dropped; 3 stored",
            "captured": 5,
            "stored": 3,
            "spooled": 0,
            "output": 0,
            "lost": "2 (counted, reported)",
        }
    )


# --- hostile inputs ---------------------------------------------------------------------------


def _nested_json(path: Path, depth: int) -> Path:
    path.write_text("[" * depth + "]" * depth)
    return path


def test_hostile_inputs_are_one_line_errors(env: Env, tmp_path: Path) -> None:
    e = env()
    base = tmp_path / "base.json"
    assert envparity("snapshot", "--no-store", "-o", str(base), env=e).rc == 0
    nested = _nested_json(tmp_path / "nested.json", 100000)
    policy = tmp_path / "nested.toml"
    policy.write_text("fail_on = " + "[" * 5000 + "]" * 5000 + "\n")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    big.write_text(" " * 5000 + "{}")
    cases: List[Tuple[str, List[str], Dict[str, str], int, str]] = [
        ("deeply nested snapshot", ["diff", str(nested), str(base)], e, 2, "nests deeper than 100"),
        ("deeply nested policy", ["diff", str(base), str(base), "--policy", str(policy)], e, 2,
         "nests deeper than 100"),
        ("list --limit 2**63", ["list", "--limit", str(2**63)], e, 2, "--limit"),
        ("fleet --since 99999999d", ["fleet", "--since", "99999999d"], e, 2, "--since"),
        ("/dev/zero as a snapshot", ["diff", "/dev/zero", str(base)], e, 2, "a device"),
        ("a FIFO as a snapshot", ["diff", str(fifo), str(base)], e, 2, "a FIFO"),
        ("input over ENVPARITY_MAX_INPUT_BYTES", ["diff", str(big), str(base)],
         env(ENVPARITY_MAX_INPUT_BYTES="1000"), 2, "larger than 1000 bytes"),
    ]
    for name, args, case_env, code, needle in cases:
        one_error(envparity(*args, env=case_env, timeout=30), code, needle)
        ROWS.append({"case": name, "expected": f"exit {code}, one line", "observed": needle,
                     "captured": 0, "stored": 0, "spooled": 0, "output": 0, "lost": 0})
    # A label that is not UTF-8, as the shell passes it: raw bytes in argv.
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"envparity", b"list", b"--label", b"k=\xff"],
        env=e,
        capture_output=True,
        timeout=30,
    )
    result = Done(done.returncode, "", done.stderr.decode("utf-8", "replace"), 0)
    assert "Traceback" not in result.err
    one_error(result, 2, "not valid UTF-8")
    ROWS.append({"case": "list --label $'k=\\xff'", "expected": "exit 2, one line",
                 "observed": "not valid UTF-8", "captured": 0, "stored": 0, "spooled": 0,
                 "output": 0, "lost": 0})


def test_hook_keeps_the_snapshot_whatever_the_input(env: Env, tmp_path: Path) -> None:
    ledger = Ledger("hook: nested baseline file, non-UTF-8 label", "stored, problem logged")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    from envparity.store import open_store

    open_store(url).close()  # an existing store: what is checked here is the input's handling
    nested = _nested_json(tmp_path / "nested.json", 100000)
    record = ledger.hook(envparity(*hook(env(), url, "--baseline", str(nested)), env=env()))
    assert record["stored"] == "store", record
    assert any("nests deeper" in p for p in record["problems"]), record  # type: ignore[union-attr]
    e = env()
    e_bytes = {k.encode(): v.encode() for k, v in e.items()}
    e_bytes[b"ENVPARITY_LABELS"] = b"model=fraud,k=\xff"
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"envparity", *[a.encode() for a in hook(e, url)]],
        env=e_bytes,
        capture_output=True,
        timeout=60,
    )
    result = Done(done.returncode, "", done.stderr.decode("utf-8", "replace"), 0)
    assert result.rc == 0, result.err
    record = ledger.hook(result)
    assert record["stored"] == "store", record
    assert any("UTF-8" in p for p in record["problems"]), record  # type: ignore[union-attr]
    ledger.finish("stored; one problem line each", url)


def _writers(spool_dir: str) -> List[int]:
    """The deferred writers (envparity.hook.writer) this test's hooks started: their job names
    this test's spool directory."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(b"envparity.hook.writer" in a for a in argv) and any(
            spool_dir.encode() in a for a in argv
        ):
            found.append(int(entry))
    return found


def test_deferred_hook_pg_frozen_and_its_writer_killed(
    pg: Instance, env: Env, tmp_path: Path, training: object
) -> None:
    ledger = Ledger(
        "deferred hook: PostgreSQL frozen, its writer killed -9",
        "server starts from the cache; snapshot stays spooled; flush stores",
    )
    _baseline(pg, env, training, ledger)  # inline (ENVPARITY_DEFER=0): caches the baseline
    # A long database timeout: the writer stays blocked on the frozen server until killed.
    deferred = env(ENVPARITY_DEFER="1", ENVPARITY_DB_TIMEOUT="120")
    pg.freeze()
    try:
        # stderr to a file, not a pipe: the detached writer keeps the hook's stderr open, and
        # the test must not wait for it.
        log = tmp_path / "hook.log"
        with open(log, "w") as err:
            start = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "envparity", *hook(deferred, pg.url, "--baseline", "base")],
                env=deferred,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            rc = proc.wait(timeout=60)
        started = Done(rc, "", log.read_text(), time.monotonic() - start)
        assert started.rc == 0, started.err
        assert "Traceback" not in started.err, started.err
        record = ledger.hook(started)
        # Nothing waited on the frozen server: compared with the cache, spooled, writer started.
        assert (record["deferred"], record["stored"], record["baseline_source"]) == (
            True,
            "spool",
            "cache",
        ), record
        assert record["problems"] == [], record
        spool_dir = os.path.dirname(str(record["spool_path"]))
        deadline = time.monotonic() + 30
        writers = _writers(spool_dir)
        while not writers and time.monotonic() < deadline:
            time.sleep(0.2)
            writers = _writers(spool_dir)
        for pid in writers:  # blocked on the frozen server: killed mid-store
            os.kill(pid, signal.SIGKILL)
        assert os.path.isfile(str(record["spool_path"])), "a killed writer must leave the file"
    finally:
        pg.thaw()
    _flush(pg.url, env)
    ledger.finish("started at once from the cache; writer killed; stored by flush", pg.url)


def test_deferred_hook_pg_down_then_next_start_drains(
    pg: Instance, env: Env, tmp_path: Path
) -> None:
    ledger = Ledger(
        "deferred hook: PostgreSQL down, then back",
        "spooled while down; the next start's writer stores both",
    )
    with open_store_at(pg.url):
        pass
    deferred = env(ENVPARITY_DEFER="1")
    pg.stop()
    try:
        down = ledger.hook(envparity(*hook(deferred, pg.url), env=deferred))
        assert down["stored"] == "spool", down
    finally:
        pg.start()
    # Its writer has stored its own snapshot (and deleted the file) by the time the pipe closes.
    up = envparity(*hook(deferred, pg.url), env=deferred).record()
    ledger.captured.add(str(up["snapshot_id"]))
    spool_dir = os.path.dirname(str(up["spool_path"]))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        _writers(spool_dir) or any(n.endswith(".json") for n in os.listdir(spool_dir))
    ):
        time.sleep(0.5)
    left = [n for n in os.listdir(spool_dir) if n.endswith(".json")]
    assert left == [], left  # both stored by the second start's writer, no flush
    ledger.finish("the second start's writer stored both", pg.url)


def open_store_at(url: str):  # type: ignore[no-untyped-def]
    """The store at ``url``, migrated (the hook never migrates PostgreSQL)."""
    from envparity.store import open_store

    return open_store(url)
