"""One benchmark worker process and what the runners share around it: the job a worker is
given, running it, merging the workers' results, the progress line and the run's conditions.

Used by :mod:`envparity.bench.runner` (one environment) and :mod:`envparity.bench.paired`
(``bench --against``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import interpreter
from ..errors import BadInput
from . import registry
from .estimators import median
from .sides import Side
from .suite import SUITES

WORKER_TIMEOUT_S = 300.0
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def parse_callable(text: str) -> str:
    """Check a ``--bench-callable module:function``; a malformed or unfindable one is BadInput."""
    if not _CALLABLE.match(text):
        raise BadInput(
            f"--bench-callable {text!r}: expected module:function, e.g. mymodel.bench:predict"
        )
    module = text.partition(":")[0]
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the user's module is here
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as e:
        found = None
        detail = f" ({e})"
    else:
        detail = ""
    if found is None:
        raise BadInput(
            f"--bench-callable {text!r}: no module named {module!r}{detail}; run from the "
            "directory that holds it or install it"
        )
    return text


def benchmark_specs(
    names: List[str], callables: Sequence[str]
) -> Tuple[List[Dict[str, Any]], list]:
    """Worker specs (built-ins, importable registered ones, callables) and in-process ones."""
    specs: List[Dict[str, Any]] = [{"name": n, "builtin": n} for n in names]
    in_process = []
    for bench in registry.benchmarks():
        if bench.in_process:
            in_process.append(bench)
        else:
            specs.append({"name": bench.name, "target": bench.target, "setup": bench.setup_target})
    for text in callables:
        specs.append({"name": text, "target": text, "setup": None})
    seen = set()
    for spec in specs:
        if spec["name"] in seen:
            raise BadInput(f"benchmark {spec['name']!r} is given twice; give each name once")
        seen.add(spec["name"])
    return specs, in_process


def suite_spec(suite: str) -> Any:
    if suite not in SUITES:
        raise BadInput(f"--suite {suite!r}: unknown suite; choose one of {', '.join(SUITES)}")
    return SUITES[suite]


def run_worker(
    side: Side,
    job: Dict[str, Any],
    index: int,
    command: Optional[Tuple[List[str], Dict[str, str]]] = None,
) -> Tuple[Optional[Dict[str, Any]], str]:
    """One fresh worker process; ``(its output, "")`` or ``(None, why it failed)``.
    ``command``: its argv and environment (default: the side's, as ``run_suite`` starts
    them)."""
    argv, env = command or ([side.python, *side.flags, "-m", "envparity.bench.worker"], side.env)
    got = interpreter.run(
        argv,
        stdin=json.dumps(dict(job, sys_path=side.sys_path)),
        env=env,
        timeout=WORKER_TIMEOUT_S,
        answer=interpreter.ANSWER_STDOUT,
    )
    if got.failure == interpreter.TIMEOUT:
        return None, f"worker process {index} took longer than {WORKER_TIMEOUT_S:.0f} s"
    if got.failure == interpreter.CANNOT_RUN:
        return None, f"worker process {index} could not start: {got.detail}"
    if got.ok and isinstance(got.answer, dict) and "results" in got.answer:
        return got.answer, ""
    return None, f"worker process {index} exited with code {got.returncode}: {got.last_line()}"


def merge_results(
    names: List[str], per_process: List[Dict[str, Dict[str, Any]]], failures: List[str]
):
    from ..model import BenchmarkResult

    results = []
    for name in names:
        got = [p[name] for p in per_process if name in p]
        ok = [r for r in got if r["status"] == "ok" and r["samples"]]
        failed = [r for r in got if r["status"] == "failed"]
        skipped = [r for r in got if r["status"] == "skipped"]
        if failed:
            reason = failed[0]["reason"]
            if len(failed) < len(got):
                reason = f"{reason} (in {len(failed)} of {len(got)} processes)"
            results.append(BenchmarkResult(name=name, status="failed", reason=reason))
        elif skipped and not ok:
            reason = skipped[0]["reason"]
            results.append(BenchmarkResult(name=name, status="skipped", reason=reason))
        elif not ok:
            why = failures[0] if failures else "no samples were taken"
            results.append(BenchmarkResult(name=name, status="failed", reason=why))
        else:
            note = None
            if failures:
                note = f"{len(failures)} worker process(es) lost: {failures[0]}"
            peaks = [int(r["peak"]) for r in ok if r.get("peak") is not None]
            results.append(
                BenchmarkResult(
                    name=name,
                    loops=ok[0]["loops"],
                    samples=[r["samples"] for r in ok],
                    peak_memory_bytes=int(median(peaks)) if peaks else None,
                    peaks_bytes=peaks,
                    reason=note,
                )
            )
    return results


class Progress:
    """A one-line progress counter on a terminal's stderr, for runs longer than a second.

    Nothing at all when the stream is not a TTY (CI logs, pipes, ``CliRunner``), and nothing
    for the first second: a quick run stays silent.
    """

    def __init__(self, label: str, total: int, stream: Any = None, after_s: float = 1.0):
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.enabled = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.enabled = False
        self.label = label
        self.total = total
        self.after_s = after_s
        self.started = time.perf_counter()
        self.width = 0

    def update(self, done: int) -> None:
        elapsed = time.perf_counter() - self.started
        if not self.enabled or elapsed < self.after_s:
            return
        of = f"/{self.total}" if self.total else ""
        text = f"{self.label}: worker {done}{of}, {elapsed:.1f} s"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def worker_job(
    spec: Any,
    specs: List[Dict[str, Any]],
    loops: Dict[str, int],
    seed: int,
    peaks: Optional[Dict[str, int]] = None,
) -> Dict[str, Any]:
    return {
        "rounds": spec.rounds,
        "warmups": spec.warmups,
        "seed": seed,
        "peak": _peak_names(specs, peaks),
        "benchmarks": [dict(s, loops=loops.get(s["name"])) for s in specs],
    }


def _peak_names(specs: List[Dict[str, Any]], peaks: Optional[Dict[str, int]]) -> Any:
    """Which benchmarks a worker measures the peak allocations of: all of them until a worker
    has; then those that allocated at least the memory floor. A benchmark that allocates next
    to nothing (a GEMM into a preallocated output) is measured once a side, which is all a
    memory verdict within the floor needs, and its untimed calls are not paid by every worker."""
    from .stats import MEMORY_FLOOR_BYTES

    if not peaks:
        return True
    return [
        s["name"] for s in specs if peaks.get(s["name"], MEMORY_FLOOR_BYTES) >= MEMORY_FLOOR_BYTES
    ]


def learn_peaks(results: Dict[str, Any], peaks: Dict[str, int]) -> None:
    for name, result in results.items():
        if result.get("peak") is not None and name not in peaks:
            peaks[name] = int(result["peak"])


def learn_loops(results: Dict[str, Any], loops: Dict[str, int]) -> None:
    for name, result in results.items():
        if result["status"] == "ok" and name not in loops:
            loops[name] = result["loops"]


def conditions_of(start: Dict[str, Any], workers: List[Dict[str, Any]]) -> Any:
    """The :class:`~envparity.model.RunConditions` of a run, with its warning when contended."""
    from ..model import RunConditions, WorkerConditions
    from . import conditions

    end = conditions.machine()
    rows = []
    for w in workers:
        rows.append(WorkerConditions(**w, contention=conditions.contention(w)))
    shares = [r.contention for r in rows if r.contention is not None]
    share = median(shares) if shares else None
    busy = sum(1 for s in shares if s >= conditions.CONTENDED)
    contended = share is not None and share >= conditions.CONTENDED
    warning = None
    if contended:
        assert share is not None
        cpus = rows[0].cpus if rows else "?"
        load = start.get("load_avg")
        load_text = f", load average {load[0]:g}" if load else ""
        warning = (
            f"benchmarks ran under contention: other processes held {share:.0%} of the {cpus} "
            f"CPUs in the median worker ({busy} of {len(shares)} workers over "
            f"{conditions.CONTENDED:.0%}{load_text}); comparisons with this run hold back any "
            "call on CPU benchmarks that contention could have caused: rerun on a quiet "
            "machine, or compare both environments at once with `envparity bench --against`"
        )
    return RunConditions(
        **start,
        load_avg_end=end.get("load_avg"),
        workers=rows,
        contention=share,
        contended_workers=busy,
        contended=contended,
        warning=warning,
    )
