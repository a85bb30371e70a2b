"""Colour in the terminal: the text report is styled when stdout is a TTY (a real pseudo-terminal
here), plain when NO_COLOR is set, and byte-identical to the renderer's text when piped."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

from envparity.model import Collection, Package, PythonInfo, Snapshot

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _snap(sid: str, packages: Dict[str, str]) -> Snapshot:
    return Snapshot(
        snapshot_id=sid, captured_at=NOW,
        packages=[Package(name=n, version=v) for n, v in packages.items()],
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


def _run(tmp_path: Path, tty: bool, **env: str) -> bytes:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_snap("a" * 32, {"numpy": "1.26.4", "six": "1.0"}).model_dump_json())
    b.write_text(_snap("b" * 32, {"numpy": "2.0.0", "six": "1.1"}).model_dump_json())
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    full.update(ENVPARITY_HOME=str(tmp_path / "home"), TERM="xterm-256color", COLUMNS="80",
                **env)
    cmd = [sys.executable, "-m", "envparity", "diff", str(a), str(b)]
    if not tty:
        done = subprocess.run(cmd, env=full, capture_output=True, timeout=120)
        assert done.returncode == 1, done.stderr
        return done.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, env=full, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 1, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).replace(b"\r\n", b"\n")


def test_text_report_is_coloured_on_a_tty_and_plain_elsewhere(tmp_path: Path) -> None:
    piped = _run(tmp_path, tty=False)
    assert b"\x1b" not in piped
    coloured = _run(tmp_path, tty=True).decode()
    assert ANSI.search(coloured), coloured
    # The colour is only styling: the same text underneath.
    assert ANSI.sub("", coloured) == piped.decode()
    assert re.search(r"\x1b\[[0-9;]*31m[^\n]*envparity: drift ERROR", coloured)  # verdict in red
    no_colour = _run(tmp_path, tty=True, NO_COLOR="1").decode()
    assert "\x1b" not in no_colour and no_colour == piped.decode()
