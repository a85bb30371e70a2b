"""``snapshot --python PATH``: run the interpreter-specific probes inside another interpreter.

envparity is not installed there. The child gets a bootstrap on its command line that registers
this package's directory as ``envparity`` without running ``envparity/__init__.py`` and without
touching the child's ``sys.path`` (so its view of installed distributions is exactly its own),
runs the stdlib-only probes, and prints one JSON object. threadpoolctl, a single stdlib-only
module, is lent to the child when it has none of its own.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List, Tuple

from ..errors import BadInput
from .interface import Context

# Probes that describe an interpreter rather than the machine.
INTERPRETER_PROBES = ("packages", "python", "envvars", "blas")

_BOOTSTRAP = """\
import importlib.util, json, sys, types
args = json.loads(sys.argv[1])
if sys.path and sys.path[0] == "":
    del sys.path[0]  # put there by -c; the interpreter's own view does not include the cwd
package = types.ModuleType("envparity")
package.__path__ = [args["package"]]
sys.modules["envparity"] = package
if importlib.util.find_spec("threadpoolctl") is None:
    spec = importlib.util.spec_from_file_location("threadpoolctl", args["threadpoolctl"])
    module = importlib.util.module_from_spec(spec)
    sys.modules["threadpoolctl"] = module
    spec.loader.exec_module(module)
from envparity.collect.remote import child_main
sys.stdout.write("\\n" + args["marker"] + json.dumps(child_main()) + "\\n")
"""
_MARKER = "@@envparity@@"
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
    ctx = Context()
    data, durations = run_probes(ctx, INTERPRETER_PROBES)
    from .packages import RECORDS

    # The RECORD lists read there, so the store here can keep them (content-addressed).
    return {
        "data": data, "durations": durations, "errors": ctx.errors, "notes": ctx.notes,
        "records": RECORDS,
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
    import subprocess  # here: capturing this interpreter (the start-up hook) starts no child
    from importlib.util import find_spec

    tpc = find_spec("threadpoolctl")  # its path only: importing it would set KMP_DUPLICATE_LIB_OK
    args = {
        "package": os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "threadpoolctl": tpc.origin if tpc else "",
        "marker": _MARKER,
    }
    try:
        result = subprocess.run(
            [python, "-c", _BOOTSTRAP, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=dict(ctx.environ),
            cwd=ctx.cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _usage(python, f"did not answer within {TIMEOUT_S:.0f} s") from None
    except OSError as e:
        raise _usage(python, f"cannot run it ({e.strerror or e})") from None
    payload = None
    for line in result.stdout.splitlines():
        if line.startswith(_MARKER):
            payload = line[len(_MARKER) :]
    if result.returncode != 0 or payload is None:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise _usage(python, f"not a working Python interpreter ({last[:200]})")
    answer = json.loads(payload)
    errors: List[Dict[str, Any]] = answer.get("errors", [])
    ctx.errors.extend(errors)
    ctx.notes.extend(answer.get("notes") or [])
    from .packages import RECORDS

    for digest, lines in (answer.get("records") or {}).items():
        RECORDS.setdefault(digest, lines)
    return answer["data"], answer["durations"]
