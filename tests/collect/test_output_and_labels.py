"""``-o`` never damages what is at the path; labels and roles are validated at the door."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List

import pytest

from envparity.collect.capture import collect_data
from envparity.errors import BadInput
from envparity.labels import check_labels, check_role
from envparity.writer import output_kind, write_output


def _env(tmp_path: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["HOME"] = str(tmp_path)
    env["ENVPARITY_DEFER"] = "0"  # these tests check the hook storing before exec
    return env


def _snapshot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", *args],
        capture_output=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        check=False,
    )


def test_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    r = _snapshot(tmp_path, "-o", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == target.name
    assert json.loads(target.read_text())["schema_version"] == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    write_output(str(link), b"{}\n")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "{}\n"


def test_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: List[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = _snapshot(tmp_path, "-o", str(fifo))
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not replaced by a file
    assert json.loads(got[0])["schema_version"] == 3


def test_dash_is_stdout(tmp_path):
    r = _snapshot(tmp_path, "-o", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["schema_version"] == 3
    assert not (tmp_path / "-").exists()


def test_dev_stdout_like_path_is_written_directly(tmp_path):
    out = tmp_path / "captured.txt"
    with open(out, "wb") as f:
        r = subprocess.run(
            [sys.executable, "-m", "envparity", "snapshot", "--no-store", "-o", "/dev/stdout"],
            stdout=f,
            stderr=subprocess.PIPE,
            env=_env(tmp_path),
            cwd=tmp_path,
            check=False,
        )
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["schema_version"] == 3
    assert output_kind("/proc/self/fd/1") == "direct"


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_character_device_stays_a_device(tmp_path):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null
    mode = stat.S_IMODE(node.lstat().st_mode)
    r = _snapshot(tmp_path, "-o", str(node))
    assert r.returncode == 0, r.stderr
    st = node.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(st.st_mode) == mode  # not chmodded
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".envparity-")] == []


def test_directory_is_a_clean_error(tmp_path):
    r = _snapshot(tmp_path, "-o", str(tmp_path))
    assert r.returncode == 2
    assert b"is a directory" in r.stderr and b"Traceback" not in r.stderr


def test_regular_file_is_replaced_atomically(tmp_path):
    target = tmp_path / "s.json"
    target.write_text("old")
    assert output_kind(str(target)) == "atomic"
    write_output(str(target), b"new")
    assert target.read_text() == "new"


@pytest.mark.parametrize(
    "args, says",
    [
        (["--label", "k=\udcff"], "not valid UTF-8"),
        (["--label", "bad key=v"], "label key"),
        (["--label", "k=" + "x" * 257], "at most 256"),
        (["--label", "k=a\tb"], "non-printable"),
        (["--role", "r\x01"], "--role"),
        (["--role", "r" * 300], "--role"),
    ],
)
def test_bad_labels_and_roles_exit_2_in_one_line(tmp_path, args, says):
    argv = [os.fsencode(a) if "\udcff" in a else a for a in args]
    r = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", *argv],
        capture_output=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        check=False,
    )
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_capture_door_refuses_bad_labels():
    with pytest.raises(BadInput):
        collect_data(labels={"k": "\udcff"})
    with pytest.raises(BadInput):
        collect_data(role="x" * 257)
    assert check_labels({"team/model.v-1_a": "fraud detector ✓"}) == {
        "team/model.v-1_a": "fraud detector ✓"
    }
    assert check_role("serving") == "serving"


def test_hook_drops_a_bad_label_and_still_stores(tmp_path):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    env = _env(tmp_path)
    up = subprocess.run(
        [sys.executable, "-m", "envparity", "db", "upgrade", "--db", db],
        capture_output=True,
        env=env,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    r = subprocess.run(
        [sys.executable, "-m", "envparity", "run", "--db", db, "--budget", "60"]
        + ["--label", os.fsencode("k=\udcff"), "--label", "team=a", "--", "true"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stderr.decode().strip().splitlines()[-1])
    assert record["stored"] == "store", record
    assert record["labels"] == {"team": "a"}
    assert any("label dropped" in p for p in record["problems"])
