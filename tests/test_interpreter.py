"""envparity.interpreter: envparity run in another interpreter (a real venv without envparity,
without pip), an entry point's JSON answer read back, and every way that fails reported with the
child's stderr."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import time
import venv
from pathlib import Path
from typing import Any, Dict

import pytest

from envparity import interpreter

ENTRIES = '''
import atexit, json, os, subprocess, sys, time


def where(x):
    import envparity
    return {
        "got": x,
        "executable": sys.executable,
        "envparity": getattr(envparity, "__file__", None),
        "initialised": hasattr(envparity, "__version__"),
        "path": sys.path,
        "cwd": os.getcwd(),
        "variable": os.environ.get("EP_TEST_VARIABLE"),
        "threadpoolctl": getattr(sys.modules.get("threadpoolctl"), "__file__", None),
    }


def lent():
    import threadpoolctl
    return threadpoolctl.__file__


def noisy():
    sys.stdout.write("not json, and no newline")
    print("on stderr", file=sys.stderr)
    return [1, 2]


def crash(message):
    print("about to fail", file=sys.stderr)
    raise RuntimeError(message)


def stall(pid_file=None):
    if pid_file:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(pid_file, "w") as f:
            f.write(str(child.pid))
    print("stalling", file=sys.stderr, flush=True)
    time.sleep(60)


def silent():
    sys.stdout.flush()
    os._exit(0)


def then_exit(code):
    atexit.register(os._exit, code)
    return {"answered": True}


def echo():
    job = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps({"echo": job, "no_site": sys.flags.no_site}))
    return 0
'''


@pytest.fixture(scope="module")
def other_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    # A real second interpreter: a venv of this Python, nothing installed in it (no envparity).
    root = tmp_path_factory.mktemp("other-venv")
    venv.create(root, with_pip=False, symlinks=os.name != "nt")
    return str(root / "bin" / "python")


@pytest.fixture
def entries(tmp_path: Path) -> Path:
    (tmp_path / "ep_entries.py").write_text(ENTRIES)
    return tmp_path


def _call(python: str, where: Path, entry: str, *args: Any, **options: Any):
    options.setdefault("timeout", 60)
    return interpreter.call(python, f"ep_entries:{entry}", args, cwd=str(where),
                            cwd_on_path=True, **options)


def test_the_answer_comes_back_from_a_venv_without_envparity(other_python, entries) -> None:
    env = dict(os.environ, EP_TEST_VARIABLE="seen")
    env.pop("PYTHONPATH", None)
    got = _call(other_python, entries, "where", {"a": [1, "b"]}, env=env)
    assert got.ok and got.failure == "" and got.returncode == 0, got
    answer: Dict[str, Any] = got.answer
    assert answer["got"] == {"a": [1, "b"]}
    assert answer["executable"] == other_python
    assert answer["envparity"] == os.path.join(interpreter.PACKAGE_DIR, "__init__.py")
    assert answer["initialised"] is True
    assert answer["cwd"] == str(entries) and answer["variable"] == "seen"
    # envparity comes from its directory, not by putting this environment on the child's path.
    home = os.path.realpath(os.path.dirname(interpreter.PACKAGE_DIR))
    mine = os.path.realpath(sysconfig.get_paths()["purelib"])
    child_path = [os.path.realpath(p) for p in answer["path"] if p]
    assert home not in child_path and mine not in child_path
    assert got.seconds > 0


def test_without_init_and_with_a_lent_module(other_python, entries) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    got = _call(other_python, entries, "where", None, init=False, env=env)
    assert got.ok, got
    assert got.answer["initialised"] is False  # envparity/__init__.py did not run
    assert got.answer["threadpoolctl"] is None
    lend = interpreter.lendable(["threadpoolctl", "no_such_module_here", "json"])
    assert set(lend) == {"threadpoolctl"}  # a package (json) cannot be lent, a missing one neither
    got = _call(other_python, entries, "lent", init=False, lend=lend, env=env)
    assert got.ok and got.answer == lend["threadpoolctl"], got
    # This interpreter has its own threadpoolctl: nothing is lent over it.
    got = _call(sys.executable, entries, "lent", lend={"threadpoolctl": "/nowhere/x.py"})
    assert got.ok and got.answer != "/nowhere/x.py", got


def test_the_marker_line_survives_what_the_entry_prints(other_python, entries) -> None:
    got = _call(other_python, entries, "noisy")
    assert got.ok and got.answer == [1, 2], got
    assert got.last_line() == "on stderr"


def test_a_crashing_entry_reports_its_stderr(other_python, entries) -> None:
    got = _call(other_python, entries, "crash", "boom-7f3a")
    assert not got.ok and got.failure == interpreter.EXITED and got.returncode == 1
    assert got.answer is None
    assert got.last_line() == "RuntimeError: boom-7f3a"
    assert got.last_line(8) == "RuntimeE"
    assert "about to fail" in got.stderr_tail
    assert "Traceback (most recent call last):" in got.stderr_tail


def test_no_answer_and_an_answer_before_a_failing_exit(other_python, entries) -> None:
    got = _call(other_python, entries, "silent")
    assert got.failure == interpreter.NO_ANSWER and got.returncode == 0
    assert got.last_line() == "no output"
    got = _call(other_python, entries, "then_exit", 3)
    assert got.failure == interpreter.EXITED and got.returncode == 3
    assert got.answer == {"answered": True}  # kept: a caller may still use it


def test_a_timeout_kills_the_child_and_what_it_started(other_python, entries, tmp_path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    started = time.perf_counter()
    got = _call(other_python, entries, "stall", str(pid_file), timeout=2, new_session=True)
    assert time.perf_counter() - started < 30
    assert got.failure == interpreter.TIMEOUT and got.answer is None
    assert got.stderr_tail == ["stalling"]  # what it wrote before the kill
    pid = int(pid_file.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the child's own child survived the kill")


def test_a_timeout_without_a_session_kills_the_child(other_python, entries) -> None:
    got = _call(other_python, entries, "stall", timeout=2)
    assert got.failure == interpreter.TIMEOUT and got.returncode == -9
    assert got.stderr_tail == ["stalling"]


def test_a_path_that_cannot_run_is_reported(tmp_path: Path) -> None:
    plain = tmp_path / "python"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(0o644)
    got = interpreter.call(str(plain), "ep_entries:where", timeout=10)
    assert got.failure == interpreter.CANNOT_RUN and got.returncode is None
    assert got.detail == "Permission denied"
    got = interpreter.call(str(tmp_path / "missing"), "ep_entries:where", timeout=10)
    assert got.failure == interpreter.CANNOT_RUN and got.detail == "No such file or directory"
    # Not a Python at all: it runs and exits 0, but no answer comes back.
    plain.chmod(0o755)
    got = interpreter.call(str(plain), "ep_entries:where", timeout=10)
    assert got.failure == interpreter.NO_ANSWER and got.returncode == 0


def test_stdout_answers_with_stdin_and_flags(other_python, entries) -> None:
    job = {"rounds": 3, "names": ["x"]}
    got = _call(other_python, entries, "echo", flags=["-S"], stdin=json.dumps(job),
                answer=interpreter.ANSWER_STDOUT)
    assert got.ok and got.answer == {"echo": job, "no_site": 1}, got
    # What run() reads is the whole of stdout, from any command.
    got = interpreter.run([other_python, "-c", "print('[1, 2]')"], timeout=30,
                          answer=interpreter.ANSWER_STDOUT)
    assert got.ok and got.answer == [1, 2]
    got = interpreter.run([other_python, "-c", "print('[1, 2')"], timeout=30,
                          answer=interpreter.ANSWER_STDOUT)
    assert got.failure == interpreter.NO_ANSWER


def test_the_argv_carries_the_job() -> None:
    argv = interpreter.command("/x/python", "m:f", [1], flags=["-S", "-E"],
                               site_dirs=["/o"], init=False)
    assert argv[:4] == ["/x/python", "-S", "-E", "-c"] and argv[4] == interpreter.BOOTSTRAP
    job = json.loads(argv[5])
    assert job["entry"] == "m:f" and job["args"] == [1] and job["site_dirs"] == ["/o"]
    assert job["package"] == interpreter.PACKAGE_DIR and job["init"] is False
    with pytest.raises(ValueError):
        interpreter.command("/x/python", "m:f", answer="file")
