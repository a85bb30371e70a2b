"""``snapshot --python PATH``: run the interpreter-specific probes inside another interpreter.

envparity is not installed there. The child is started through :mod:`envparity.interpreter`: this
package's directory is registered as ``envparity`` without running ``envparity/__init__.py`` and
without touching the child's ``sys.path`` (so its view of installed distributions is exactly its
own), :func:`child_main` runs the stdlib-only probes there and its JSON answer comes back.
threadpoolctl, a single stdlib-only module, is lent to the child when it has none of its own.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Tuple

from ..errors import BadInput
from .interface import Context

# Probes that describe an interpreter rather than the machine.
INTERPRETER_PROBES = ("packages", "python", "envvars", "blas")

TIMEOUT_S = 60.0


def run_probes(ctx: Context, names: Tuple[str, ...]) -> Tuple[Dict[str, Any], Dict[str, float]]:
    """Run the named probes in this process; a probe that raises is recorded, never fatal."""
    import importlib

    data: Dict[str, Any] = {}
    durations: Dict[str, float] = {}
    for name in names:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"envparity.collect.{name}")
            data.update(module.collect(ctx))
        except Exception as e:
            ctx.fail(name, f"probe crashed: {type(e).__name__}: {e}")
        durations[name] = round((time.perf_counter() - start) * 1000, 3)
    return data, durations


def child_main() -> Dict[str, Any]:
    """Entry point inside the child interpreter."""
    # Every RECORD read there (no digest cache: the lists go back to be stored here).
    ctx = Context(digest_cache=False)
    data, durations = run_probes(ctx, INTERPRETER_PROBES)
    from .packages import digests_here, local_lines

    # The RECORD lists seen there, so the store here can keep them (content-addressed): those
    # whose digest was remembered are read now.
    records = {}
    for digest in digests_here():
        lines = local_lines(digest)
        if lines is not None:
            records[digest] = lines
    return {
        "data": data, "durations": durations, "errors": ctx.errors, "notes": ctx.notes,
        "records": records,
    }


def _usage(python: str, why: str) -> BadInput:
    return BadInput(
        f"--python {python}: {why}; give the path of a Python 3.9+ executable, "
        "e.g. /opt/venv/bin/python"
    )


def collect(python: str, ctx: Context) -> Tuple[Dict[str, Any], Dict[str, float]]:
    """The interpreter probes' results from the interpreter at ``python``."""
    if not os.path.isfile(python):
        raise _usage(python, "no such file")
    if not os.access(python, os.X_OK):
        raise _usage(python, "not executable")
    # Here, not at the top: capturing this interpreter (the start-up hook) starts no child.
    from .. import interpreter

    got = interpreter.call(
        python,
        "envparity.collect.remote:child_main",
        init=False,
        lend=interpreter.lendable(["threadpoolctl"]),
        timeout=TIMEOUT_S,
        env=dict(ctx.environ),
        cwd=ctx.cwd,
    )
    if got.failure == interpreter.TIMEOUT:
        raise _usage(python, f"did not answer within {TIMEOUT_S:.0f} s")
    if got.failure == interpreter.CANNOT_RUN:
        raise _usage(python, f"cannot run it ({got.detail})")
    if not got.ok or not isinstance(got.answer, dict):
        raise _usage(python, f"not a working Python interpreter ({got.last_line(200)})")
    answer: Dict[str, Any] = got.answer
    errors: List[Dict[str, Any]] = answer.get("errors", [])
    ctx.errors.extend(errors)
    ctx.notes.extend(answer.get("notes") or [])
    from .packages import RECORDS

    for digest, lines in (answer.get("records") or {}).items():
        RECORDS.setdefault(digest, lines)
    return answer["data"], answer["durations"]
