"""Every file envparity writes, walked with what may already be at its path: a device node, a FIFO
nobody reads, a symlink and a directory. Each writer has one of three modes (envparity.writer):
user outputs write devices in place and replace regular files atomically, envparity's own files
are regular files only, the CI runner's files are appended to. Nothing is ever clobbered."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
from _support import isolated_env

from envparity import writer
from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
KINDS = ("device", "fifo", "symlink", "directory")


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that falls back to the shared temp directory falls back inside this test."""
    import tempfile

    (tmp_path / "tmp").mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


def _snap() -> Snapshot:
    return Snapshot(
        snapshot_id="0" * 31 + "1",
        captured_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        role="serving",
        packages=[Package(name="numpy", version="1.26.4")],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(hostname="h"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


@dataclass
class Writer:
    """One of envparity's writers: ``where(tmp)`` is the path it writes; ``call(tmp)`` writes it
    and returns a problem line (writers that report instead of raising) or raises OSError."""

    name: str
    mode: str
    where: Callable[[Path], Path]
    call: Callable[[Path], Optional[str]]


def _env(tmp: Path) -> Dict[str, str]:
    return isolated_env(tmp, tmp / "home")


def _cli_output(tmp: Path) -> Optional[str]:
    from envparity.cli._app import write_atomic

    write_atomic(str(tmp / "out"), "written\n")
    return None


def _metrics(tmp: Path) -> Optional[str]:
    from envparity.report.openmetrics import write_container_metrics

    return write_container_metrics(str(tmp / "out"), _snap(), None, None)


def _spool(tmp: Path) -> Optional[str]:
    from envparity.hook.spool import spool

    spool(_snap(), {}, str(tmp / "spool"))
    return None


def _spool_path(tmp: Path) -> Path:
    from envparity.hook.spool import _name

    snap = _snap()
    return tmp / "spool" / _name(snap.snapshot_id, snap.captured_at)


def _dropped(tmp: Path) -> Optional[str]:
    from envparity.hook.spool import _count_dropped

    _count_dropped(str(tmp / "spool"), 1)
    return None


def _cache(tmp: Path) -> Optional[str]:
    from envparity.hook.cache import remember

    remember("prod", None, _snap(), _env(tmp))
    return None


def _cache_path(tmp: Path) -> Path:
    from envparity.hook.cache import _key

    return tmp / "home" / "baselines" / f"{_key('prod', None)}-{_snap().snapshot_id}.json"


def _step_summary(tmp: Path) -> Optional[str]:
    from envparity.comparison import compare as diff
    from envparity.report.github import append_step_summary

    report = diff(_snap(), _snap())
    return append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(tmp / "out")}, "written")


def _out(tmp: Path) -> Path:
    return tmp / "out"


WRITERS = [
    Writer("cli -o", writer.USER, _out, _cli_output),
    Writer("ENVPARITY_METRICS_FILE", writer.USER, _out, _metrics),
    Writer("spool", writer.OWN, _spool_path, _spool),
    Writer("spool dropped count", writer.OWN, lambda t: t / "spool" / ".dropped-count", _dropped),
    Writer("baseline cache", writer.OWN, _cache_path, _cache),
    Writer("GITHUB_STEP_SUMMARY", writer.RUNNER, _out, _step_summary),
]


def _plant(kind: str, path: Path, victim: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "device":
        if ROOT:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null
        else:
            path.symlink_to("/dev/null")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        victim.write_text("keep\n")
        path.symlink_to(victim)
    else:
        path.mkdir()
        (path / "inside").write_text("keep\n")


def _run(w: Writer, tmp: Path) -> str:
    """'ok', or the problem: a returned line or a raised OSError's text."""
    try:
        problem = w.call(tmp)
    except OSError as e:
        return f"error: {e}"
    except Exception as e:  # BadInput from the CLI's -o
        return f"error: {e}"
    return f"error: {problem}" if problem else "ok"


def test_every_writer_is_listed():
    """The walk below covers every writer: any other place in envparity/ that writes a file
    directly (open for writing, write_text, os.replace, tempfile) must be added to it."""
    import envparity

    root = Path(envparity.__file__).parent
    direct: List[str] = []
    writes = re.compile(
        r"open\([^)]*[\"'][wax]b?\+?[\"']|write_text\(|write_bytes\(|os\.replace\(|mkstemp\("
        r"|NamedTemporaryFile|shutil\.(copy|move)"
    )
    allowed = (
        "path + _INVALID",  # the spool sets aside its own regular file that is not a snapshot
        "os.dup(1)",  # the benchmark worker's stdout
        "shutil.copytree(package",  # into the fresh private directory mkdtemp just made
    )
    for path in sorted(root.rglob("*.py")):
        if path.name == "writer.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if writes.search(line.split("#")[0]) and not any(a in line for a in allowed):
                direct.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert direct == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("w", WRITERS, ids=[w.name for w in WRITERS])
def test_writer_never_clobbers(w: Writer, kind: str, tmp_path: Path):
    path = w.where(tmp_path)
    victim = tmp_path / "victim.txt"
    _plant(kind, path, victim)
    got = _run(w, tmp_path)

    if kind == "directory":
        # Own files may fall back to another candidate directory; the others say why they could not.
        assert got.startswith("error") or w.mode == writer.OWN, got
        assert (path / "inside").read_text() == "keep\n"
        return
    if kind == "device":
        if w.mode == writer.OWN:
            # An own file is a regular file or nothing: refused, the node left as it was.
            assert os.path.lexists(path)
            assert not stat.S_ISREG(os.lstat(path).st_mode)
        else:
            assert got == "ok"
        assert stat.S_ISCHR(os.stat(path).st_mode), "the device was replaced"
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
        return
    if kind == "fifo":
        # Nobody reads it: a clear error (or an own file refused), never a hang or a replacement.
        assert got.startswith("error") or w.mode == writer.OWN, got
        if w.mode != writer.OWN:
            assert "no reader" in got, got
        assert stat.S_ISFIFO(os.lstat(path).st_mode)
        return
    # A symlink.
    assert path.is_symlink() and os.readlink(path) == str(victim)
    if w.mode == writer.OWN:
        assert victim.read_text() == "keep\n"  # never written through
    elif w.mode == writer.USER:
        assert got == "ok"
        assert victim.read_text() != "keep\n"  # the target replaced, the link kept
    else:
        assert got == "ok"
        assert victim.read_text().startswith("keep\nwritten")  # appended to, not replaced


def test_user_and_runner_writers_on_the_real_dev_null():
    """/dev/null itself (the tests run as root, where replacing it breaks the host)."""
    from envparity.cli._app import write_atomic
    from envparity.comparison import compare as diff
    from envparity.report.github import append_step_summary
    from envparity.report.openmetrics import write_container_metrics

    write_atomic("/dev/null", "written\n")
    assert write_container_metrics("/dev/null", _snap(), None, None) is None
    assert append_step_summary(diff(_snap(), _snap()), {"GITHUB_STEP_SUMMARY": "/dev/null"}) is None
    info = os.lstat("/dev/null")
    assert stat.S_ISCHR(info.st_mode)
    assert (os.major(info.st_rdev), os.minor(info.st_rdev)) == (1, 3)


def test_user_output_fifo_with_a_reader_gets_the_data(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        # The reader opens the FIFO when it runs: retry until it has (no timing assumed).
        while True:
            try:
                writer.write_output(str(fifo), b"through the pipe\n")
                break
            except writer.NoReader:
                assert reader.poll() is None, "the reader exited"
        out, _ = reader.communicate()
    finally:
        if reader.poll() is None:
            reader.kill()
    assert out == b"through the pipe\n"


def test_own_file_refuses_a_symlink_to_read(tmp_path: Path):
    secret = tmp_path / "secret"
    secret.write_text("not yours")
    (tmp_path / "cached.json").symlink_to(secret)
    with pytest.raises(writer.NotRegular):
        writer.read_own(str(tmp_path / "cached.json"))


def test_hook_metrics_file_on_dev_null_keeps_the_device(tmp_path: Path):
    """The issue's case, end to end: ENVPARITY_METRICS_FILE=/dev/null in a real `envparity run`
    leaves /dev/null a character device, and the server starts."""
    env = isolated_env(tmp_path, tmp_path / "home", ENVPARITY_METRICS_FILE="/dev/null")
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--", sys.executable, "-c", "print('up')"],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "up"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_cli_output_to_a_fifo_without_reader_is_one_line_exit_2(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = isolated_env(tmp_path, tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", "-o", str(fifo)],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,  # a hang is the bug; this only keeps it from stalling the suite
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "no reader" in done.stderr and str(fifo) in done.stderr
