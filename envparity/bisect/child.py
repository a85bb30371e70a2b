"""The trial child: runs inside the candidate's interpreter, with overlays first on its path and
some distributions hidden, and measures the symptom (probe outputs, benchmark samples).

Standard library only (plus envparity's own stdlib-only bench modules): the candidate may not
have envparity's dependencies, or envparity at all. The parent starts :func:`main` through
:mod:`envparity.interpreter`, which loads envparity (``__init__`` included) from its own package
directory without putting that directory's parent (another environment's site-packages) on the
child's path, and puts the overlays first, so the child's view of installed distributions is the
candidate's plus the overlays, and the user's probe modules can still ``import envparity``. Its
benchmark workers start the same way.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Set

_SKIP_TOP = {"__pycache__", "..", "bin", "share", "include", "lib", "scripts", ""}


def top_level(dist_name: str) -> List[str]:
    """The top-level module names a distribution installs: ``top_level.txt``, else its RECORD."""
    from importlib import metadata

    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return []
    text = dist.read_text("top_level.txt")
    names: Set[str] = set()
    if text:
        names = {line.strip() for line in text.splitlines() if line.strip()}
    else:
        for path in dist.files or []:
            first = str(path).replace("\\", "/").split("/", 1)[0]
            if first.endswith((".dist-info", ".data", ".egg-info", ".pth")):
                continue
            name = first.split(".", 1)[0] if "." in first else first
            if first.endswith((".py", ".so", ".pyd")) or "/" in str(path).replace("\\", "/"):
                names.add(name)
    return sorted(n for n in names if n not in _SKIP_TOP and n.isidentifier())


class Hider:
    """A meta-path finder that stands in for :class:`importlib.machinery.PathFinder` and refuses
    the top-level modules of distributions absent in the baseline, as if they were not installed:
    ``import`` raises ModuleNotFoundError, ``importlib.util.find_spec`` returns None and
    ``importlib.metadata`` does not list the distribution."""

    def __init__(self, names: Dict[str, str], inner: Any = None) -> None:
        from importlib.machinery import PathFinder

        self.names = names  # module -> distribution
        self.dists = {_norm(d) for d in names.values()}
        self.inner = inner or PathFinder

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition(".")[0] in self.names:
            return None
        return self.inner.find_spec(fullname, path, target)

    def find_distributions(self, *args: Any, **kwargs: Any) -> Any:
        for dist in self.inner.find_distributions(*args, **kwargs):
            if _norm(dist.metadata["Name"] or "") not in self.dists:
                yield dist

    def invalidate_caches(self) -> None:
        self.inner.invalidate_caches()


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def hide(distributions: List[str]) -> Dict[str, str]:
    """Put a :class:`Hider` in place of the path finder for ``distributions``; returns module
    -> distribution."""
    from importlib.machinery import PathFinder

    names: Dict[str, str] = {}
    for dist in distributions:
        for module in top_level(dist):
            names[module] = dist
        names.setdefault(_norm(dist).replace("-", "_"), dist)  # no files listed: its own name
    if names:
        for loaded in [m for m in sys.modules if m.partition(".")[0] in names]:
            del sys.modules[loaded]
        sys.meta_path[:] = [Hider(names, f) if f is PathFinder else f for f in sys.meta_path]
        importlib.invalidate_caches()
    return names


def _error(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    return text if len(text) <= 400 else text[:397] + "..."


def run_probes(modules: List[str]) -> Dict[str, Any]:
    """Import the probe modules and run every registered probe, recording whole outputs as a
    snapshot does (``envparity.parity``); import failures are kept apart from probes that merely
    fail."""
    from envparity.bench import numerics

    out: Dict[str, Any] = {"probes": {}, "import_errors": []}
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as e:  # noqa: BLE001 - a user's module may raise anything
            out["import_errors"].append(f"import {name}: {_error(e)}")
    for entry in numerics.run_registered_data():
        reason = entry.get("reason") or ""
        if entry.get("status") == "failed" and reason.startswith(_IMPORT_ERRORS):
            out["import_errors"].append(f"probe {entry['name']}: {reason}")
        out["probes"][entry["name"]] = entry
    return out


_IMPORT_ERRORS = ("ImportError:", "ModuleNotFoundError:")


def _worker(
    python: str, flags: List[str], env: Dict[str, str], job: Dict[str, Any]
) -> Optional[Dict[str, Any]]:
    """One benchmark worker (``envparity.bench.worker``, envparity loaded from this package's
    directory): its results, or None when it failed."""
    from .. import interpreter

    got = interpreter.call(
        python,
        "envparity.bench.worker:main",
        flags=flags,
        cwd_on_path=True,
        answer=interpreter.ANSWER_STDOUT,
        stdin=json.dumps(job),
        env=env,
        timeout=300,
    )
    if not got.ok or not isinstance(got.answer, dict) or "results" not in got.answer:
        return None
    return got.answer["results"]  # type: ignore[no-any-return]


def run_benchmarks(args: Dict[str, Any]) -> Dict[str, Any]:
    """Time the named benchmarks in fresh workers of this interpreter (its path: overlays
    first), interleaved with workers of the baseline's interpreter when one is given."""
    names: List[str] = args["bench"]
    processes = int(args.get("processes") or 8)
    mine_env = dict(os.environ)
    mine_env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    flags = ["-S"] if os.name != "nt" else []
    base_python: Optional[str] = args.get("baseline_python")
    base_env: Dict[str, str] = args.get("baseline_env") or {}
    specs = [{"name": n, "builtin": n} for n in names]
    samples: Dict[str, Dict[str, List[List[float]]]] = {
        n: {"candidate": [], "baseline": []} for n in names
    }
    failures: Dict[str, str] = {}
    loops: Dict[str, int] = {}
    for index in range(processes):
        sides = [("candidate", sys.executable, flags, mine_env)]
        if base_python:
            sides.append(("baseline", base_python, [], base_env))
        if index % 2:
            sides.reverse()  # neither side always runs right after the other
        for side, python, side_flags, env in sides:
            job = {
                "sys_path": [],
                "rounds": int(args.get("rounds") or 3),
                "warmups": 1,
                "seed": index,
                "peak": False,
                "benchmarks": [dict(s, loops=loops.get(s["name"])) for s in specs],
            }
            results = _worker(python, side_flags, env, job)
            if results is None:
                failures.setdefault(side, f"a {side} worker process failed")
                continue
            for name, result in results.items():
                if result["status"] == "ok" and result["samples"]:
                    samples[name][side].append(result["samples"])
                    loops.setdefault(name, result["loops"])
                elif result["status"] != "ok":
                    failures.setdefault(name, f"{side}: {result.get('reason')}")
    return {"bench": samples, "bench_failures": failures, "interleaved": bool(base_python)}


def main(args: Dict[str, Any]) -> Dict[str, Any]:
    """Measure what ``args`` asks; the JSON answer (the bootstrap prints it for the parent)."""
    started = time.perf_counter()
    answer: Dict[str, Any] = {"hidden": hide(list(args.get("hide") or []))}
    if args.get("inventory"):
        answer["inventory"] = inventory(args["inventory"])
    if args.get("probes"):
        answer.update(run_probes(list(args["probes"])))
    if args.get("bench"):
        answer.update(run_benchmarks(args))
    answer["seconds"] = time.perf_counter() - started
    return answer


def inventory(names: List[str]) -> Dict[str, Any]:
    """For each distribution named: its top-level modules and the installed distributions that
    require it (its dependents), read from this interpreter's metadata."""
    import re
    from importlib import metadata

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    wanted = {norm(n) for n in names}
    dependents: Dict[str, Set[str]] = {n: set() for n in wanted}
    for dist in metadata.distributions():
        dist_name = norm(dist.metadata["Name"] or "")
        for req in dist.requires or []:
            if "extra ==" in req:
                continue  # an optional dependency is not needed to import the package
            target = norm(re.split(r"[\s<>=!~;\[(]", req.strip(), maxsplit=1)[0])
            if target in wanted and dist_name:
                dependents[target].add(dist_name)
    return {
        n: {"top_level": top_level(n), "dependents": sorted(dependents.get(norm(n), set()))}
        for n in names
    }
