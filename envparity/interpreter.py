"""Running envparity in another interpreter, one way for every caller.

Three things run part of envparity in an interpreter that need not have it installed:
``snapshot --python`` (the interpreter probes, :mod:`envparity.collect.remote`), the bisect's
trial child and its benchmark workers (:mod:`envparity.bisect`), and the benchmark workers
(:mod:`envparity.bench.workers`). This module owns what they share:

- :func:`command`: the argv that makes envparity importable in the other interpreter from this
  package's directory (running ``envparity/__init__.py`` or not) without putting that directory's
  parent, another environment's site-packages, on its path; lends single-file modules it lacks
  (threadpoolctl); optionally puts site directories first on its path (the bisect's overlays);
  then calls an entry point ``module:function`` with JSON arguments.
- :func:`run`: runs an argv with a timeout, environment and working directory, and reads one JSON
  answer back: the last line that starts with :data:`MARKER` on stdout (:data:`ANSWER_MARKER`,
  what :func:`command`'s bootstrap prints), or the whole of stdout (:data:`ANSWER_STDOUT`, what a
  benchmark worker writes).
- :class:`Outcome`: what came back; a failure (timeout, cannot run it, non-zero exit, no answer) is
  one of :data:`FAILURES` with the tail of the child's stderr, and each caller words it its own way.

Standard library only: the bisect child imports this inside the candidate's interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

# The directory of this envparity package (the one holding this file).
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

MARKER = "@@envparity@@"
ANSWER_MARKER = "marker"  # the entry's return value, printed on a marker line by the bootstrap
ANSWER_STDOUT = "stdout"  # the entry writes its JSON answer as the whole of stdout itself

TIMEOUT = "timeout"  # killed after the timeout
CANNOT_RUN = "cannot_run"  # the interpreter could not be started (OSError)
EXITED = "exited"  # a non-zero exit status
NO_ANSWER = "no_answer"  # exited 0 without a readable answer
FAILURES = (TIMEOUT, CANNOT_RUN, EXITED, NO_ANSWER)

_TAIL_LINES = 20

# Run with ``python -c BOOTSTRAP JOB``; JOB is the JSON object :func:`command` builds.
BOOTSTRAP = """\
import importlib.util, json, os, sys
job = json.loads(sys.argv[1])
if not job["cwd_on_path"] and sys.path and sys.path[0] == "":
    del sys.path[0]  # put there by -c; the interpreter's own view does not include the cwd
if job["site_dirs"]:
    import site
    before = list(sys.path)
    for d in job["site_dirs"]:
        site.addsitedir(d)  # as site does, so .pth files there work
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + [p for p in sys.path if p not in added]
pkg = job["package"]
if job["init"]:
    spec = importlib.util.spec_from_file_location(
        "envparity", os.path.join(pkg, "__init__.py"), submodule_search_locations=[pkg])
    package = importlib.util.module_from_spec(spec)
    sys.modules["envparity"] = package
    spec.loader.exec_module(package)
else:
    import types
    package = types.ModuleType("envparity")
    package.__path__ = [pkg]
    sys.modules["envparity"] = package
for name, origin in sorted(job["lend"].items()):
    if importlib.util.find_spec(name) is None:
        spec = importlib.util.spec_from_file_location(name, origin)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
module_name, _, function = job["entry"].partition(":")
entry = getattr(importlib.import_module(module_name), function)
result = entry(*job["args"])
if job["answer"] == "stdout":
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(result if isinstance(result, int) else 0)  # written: skip the teardown
sys.stdout.write("\\n" + job["marker"] + json.dumps(result) + "\\n")
sys.stdout.flush()  # out before anything in the teardown can crash
"""


def lendable(names: Sequence[str]) -> Dict[str, str]:
    """``{module: file}`` for those of ``names`` that are single-file modules here, found without
    importing them (importing threadpoolctl would set KMP_DUPLICATE_LIB_OK)."""
    from importlib.util import find_spec

    out: Dict[str, str] = {}
    for name in names:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.submodule_search_locations or not spec.origin:
            continue  # not here, or a package: only a single file can be lent
        if spec.origin.endswith(".py"):
            out[name] = spec.origin
    return out


def command(
    python: str,
    entry: str,
    args: Sequence[Any] = (),
    *,
    flags: Sequence[str] = (),
    init: bool = True,
    lend: Optional[Dict[str, str]] = None,
    site_dirs: Sequence[str] = (),
    cwd_on_path: bool = False,
    answer: str = ANSWER_MARKER,
    package: str = PACKAGE_DIR,
) -> List[str]:
    """The argv that calls ``entry`` (``module:function``) with ``args`` in ``python``.

    envparity is loaded from ``package`` (this one by default) as the module ``envparity``:
    with ``init`` its ``__init__.py`` runs, so the user's modules can ``import envparity`` and use
    its API; without it the package is a bare namespace and only the submodules asked for load.
    ``lend``: ``{module: file}`` (see :func:`lendable`) loaded only where the child has no module
    of that name. ``site_dirs`` are added as ``site`` would add them, first on the path.
    ``cwd_on_path`` keeps the current directory that ``-c`` puts first on the path (for the user's
    modules). ``answer``: :data:`ANSWER_MARKER` prints the entry's return value on a marker line;
    :data:`ANSWER_STDOUT` leaves stdout to the entry, whose return value is the exit status.
    """
    if answer not in (ANSWER_MARKER, ANSWER_STDOUT):
        raise ValueError(f"answer={answer!r}: expected {ANSWER_MARKER!r} or {ANSWER_STDOUT!r}")
    job = {
        "package": package,
        "init": bool(init),
        "lend": dict(lend or {}),
        "site_dirs": list(site_dirs),
        "cwd_on_path": bool(cwd_on_path),
        "entry": entry,
        "args": list(args),
        "answer": answer,
        "marker": MARKER,
    }
    return [python, *flags, "-c", BOOTSTRAP, json.dumps(job)]


@dataclass
class Outcome:
    """What a child run gave back: its ``answer`` (the decoded JSON, or None) and, when it failed,
    ``failure`` (one of :data:`FAILURES`), ``detail`` (why it could not run, or the timeout) and the
    last lines of its stderr. An answer printed before a non-zero exit is kept: a caller may use
    it (a bisect trial whose child crashed in its teardown) or not (``snapshot --python``)."""

    answer: Any = None
    failure: str = ""
    returncode: Optional[int] = None
    detail: str = ""
    stderr_tail: List[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failure

    def last_line(self, limit: Optional[int] = None) -> str:
        """The last line of the child's stderr (``no output`` when it wrote none), cut at
        ``limit`` characters."""
        line = self.stderr_tail[-1] if self.stderr_tail else "no output"
        return line if limit is None else line[:limit]


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[str] = None,
    stdin: Optional[str] = None,
    answer: str = ANSWER_MARKER,
    new_session: bool = False,
) -> Outcome:
    """Run ``argv`` and read its answer (see :data:`ANSWER_MARKER`, :data:`ANSWER_STDOUT`).

    ``stdin``: text for its standard input (otherwise it inherits this process's). With
    ``new_session`` the child gets its own process group and a timeout kills the whole group,
    whatever the child started; otherwise the child alone is killed. An interrupt here kills
    the child too before it propagates. Never raises for what the child did.
    """
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            text=True,
            start_new_session=new_session,
        )
    except OSError as e:
        return Outcome(failure=CANNOT_RUN, detail=str(e.strerror or e),
                       seconds=time.perf_counter() - started)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        out, err = _kill(proc, new_session)
    except BaseException:
        _kill(proc, new_session)
        raise
    seconds = time.perf_counter() - started
    tail = err.strip().splitlines()[-_TAIL_LINES:]
    if timed_out:
        return Outcome(failure=TIMEOUT, returncode=proc.returncode, detail=f"{timeout:g} s",
                       stderr_tail=tail, seconds=seconds)
    got = _read(out, answer)
    failure = EXITED if proc.returncode != 0 else NO_ANSWER if got is None else ""
    return Outcome(got, failure, proc.returncode, "", tail, seconds)


def call(
    python: str,
    entry: str,
    args: Sequence[Any] = (),
    *,
    timeout: float,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[str] = None,
    stdin: Optional[str] = None,
    new_session: bool = False,
    **options: Any,
) -> Outcome:
    """:func:`command` then :func:`run`: ``entry(*args)`` in ``python``, its answer back.
    ``options`` are :func:`command`'s (``flags``, ``init``, ``lend``, ``site_dirs``, ...)."""
    answer = options.get("answer", ANSWER_MARKER)
    argv = command(python, entry, args, **options)
    return run(argv, timeout=timeout, env=env, cwd=cwd, stdin=stdin, answer=answer,
               new_session=new_session)


def _read(out: str, answer: str) -> Any:
    """The JSON answer in a child's stdout, or None."""
    text: Optional[str] = None
    if answer == ANSWER_STDOUT:
        text = out
    else:
        for line in out.splitlines():
            if line.startswith(MARKER):
                text = line[len(MARKER) :]
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _kill(proc: subprocess.Popen[str], group: bool) -> Tuple[str, str]:
    """Kill ``proc`` (with its process group when it has its own) and collect what it wrote."""
    if group and hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, getattr(signal, "SIGKILL", 9))  # everything it started too
        except (ProcessLookupError, PermissionError):
            pass
    else:
        proc.kill()
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired as e:  # something it started still holds the pipes
        proc.kill()
        proc.wait()
        return _text(e.output), _text(e.stderr)
    return out or "", err or ""


def _text(data: Any) -> str:
    """What a timed-out read had: bytes on POSIX even in text mode."""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""
