"""``run_suite``: time a suite in fresh worker processes and collect the results.

Noise on a shared machine is mostly between processes (address-space layout, which core, what the
neighbours do), so one process's samples underestimate it. Each suite runs in several fresh
workers, one after another: running two at a time would halve the wall time but let them fight
over the two cores a multi-threaded GEMM wants. The first worker calibrates the loop counts and
the others reuse them, so every process times the same amount of work and calibration is paid
once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import BadInput
from . import registry
from .stats import median
from .suite import PAIRED_SUFFIX, SUITES

if TYPE_CHECKING:
    from ..model import BenchmarkRun, NumericResult

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


def _specs(names: List[str], callables: Sequence[str]) -> Tuple[List[Dict[str, Any]], list]:
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


class Side:
    """How to start one side's workers: the interpreter, its environment and flags.

    This environment (:func:`this_side`) runs its workers without ``site`` and passes its own
    sys.path, so that what .pth files would import is not paid by every worker. Another
    interpreter (:func:`other_side`) runs with its own site-packages; only envparity itself is
    added to its path (through a directory holding a link to this package, never this
    environment's site-packages, which would bring this side's NumPy along).
    """

    def __init__(
        self,
        python: str,
        env: Dict[str, str],
        flags: List[str],
        sys_path: List[str],
        extra: Dict[str, str],
    ):
        from ..redact import redact

        self.python = python
        self.env = env
        self.flags = flags
        self.sys_path = sys_path
        # What the run records of the extra variables: a token passed with --env is not kept.
        self.extra = {k: redact(k, v) for k, v in extra.items()}


def this_side(extra: Optional[Dict[str, str]] = None) -> Side:
    """This interpreter and environment, with ``extra`` variables for its workers."""
    paths = [p for p in sys.path if p]
    env = dict(os.environ)
    env.update(extra or {})
    flags: List[str] = []
    # The worker runs without ``site`` (-S): this process's sys.path, site-packages and .pth
    # entries included, reaches it through PYTHONPATH, and what .pth files would import at
    # start-up (40 ms of certifi on one machine seen) is not paid again by every worker.
    # Windows keeps site: .pth files there also add DLL directories.
    if os.name != "nt" and paths:
        flags = ["-S"]
        home = os.path.dirname(_package_dir())
        if not any(_same_dir(p, home) for p in paths):
            # An editable install finds envparity through an import hook that a .pth file
            # installs, which -S skips: the worker reaches it through the link directory.
            paths = [*paths, _shim()]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return Side(sys.executable, env, flags, paths, dict(extra or {}))


_SHIMS: Dict[str, str] = {}


def _package_dir() -> str:
    """The directory of this envparity package."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _same_dir(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a or ".", b)
    except OSError:
        return False


def _shim() -> str:
    """A directory whose only entry is a link to this envparity package."""
    package = _package_dir()
    if package not in _SHIMS:
        import atexit
        import shutil
        import tempfile

        root = tempfile.mkdtemp(prefix="envparity-shim-")
        atexit.register(shutil.rmtree, root, True)
        try:
            os.symlink(package, os.path.join(root, "envparity"), target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege): copy the package
            shutil.copytree(package, os.path.join(root, "envparity"))
        _SHIMS[package] = root
    return _SHIMS[package]


def _interpreter(python: str) -> str:
    """The path of a working Python 3.9+ interpreter named by ``--against``, or BadInput."""
    import shutil

    found = shutil.which(python) if os.sep not in python else python
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise BadInput(f"--against {python!r}: no such interpreter; give a path or a name on PATH")
    try:
        done = subprocess.run(
            [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BadInput(f"--against {python!r}: cannot run it ({e})") from None
    version = done.stdout.strip()
    if done.returncode != 0 or not re.match(r"^\d+\.\d+$", version):
        raise BadInput(f"--against {python!r}: not a working Python interpreter")
    if tuple(int(x) for x in version.split(".")) < (3, 9):
        raise BadInput(f"--against {python!r}: Python {version}; envparity needs 3.9 or newer")
    return found


def paired_side(python: str, extra: Optional[Dict[str, str]] = None) -> Side:
    """One side of ``bench --against``: an interpreter on this host (it may be this one).

    Both sides are built here and nowhere else, so they start alike: this process's variables
    without PYTHONPATH (which may point into this environment), plus the side's ``extra``, plus
    a PYTHONPATH of only the directory that links to this envparity package; the same flags (none:
    each interpreter starts through its own ``site``, so its own site-packages and .pth files
    are there), and the current directory on the path for the user's modules. Any difference
    between the sides is then the interpreter and the variables the user gave it, not how
    envparity started them. (The baseline used to start like :func:`this_side`, with ``-S`` and
    its whole sys.path on PYTHONPATH, the candidate through ``site``; A/A runs then leant 2-3%
    towards "candidate slower".)
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra or {})
    env["PYTHONPATH"] = _shim()
    return Side(python, env, [], [os.getcwd()], dict(extra or {}))


def other_side(python: str, extra: Optional[Dict[str, str]] = None) -> Side:
    """Another interpreter on this host (it may be this one), with ``extra`` variables: a
    :func:`paired_side` after checking that ``python`` is a working Python 3.9+."""
    return paired_side(_interpreter(python), extra)


def launch(side: Side, round_index: int) -> Tuple[List[str], Dict[str, str]]:
    """``(argv, environment)`` of a worker of ``side`` in round ``round_index`` of a paired run.

    Both workers of a round get the same hash seed (unless the user set PYTHONHASHSEED): string
    hashing decides dict and set layouts, so a seed drawn per process adds noise that pairing
    cannot remove.
    """
    env = dict(side.env)
    if "PYTHONHASHSEED" not in side.env:
        env["PYTHONHASHSEED"] = str(1 + round_index % 4294967295)
    return [side.python, *side.flags, "-m", "envparity.bench.worker"], env


def _run_worker(
    side: Side,
    job: Dict[str, Any],
    index: int,
    command: Optional[Tuple[List[str], Dict[str, str]]] = None,
) -> Tuple[Optional[Dict[str, Any]], str]:
    """One fresh worker process; ``(its output, "")`` or ``(None, why it failed)``.
    ``command``: its argv and environment (default: the side's, as :func:`run_suite` starts
    them)."""
    argv, env = command or ([side.python, *side.flags, "-m", "envparity.bench.worker"], side.env)
    try:
        done = subprocess.run(
            argv,
            input=json.dumps(dict(job, sys_path=side.sys_path)),
            env=env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"worker process {index} took longer than {WORKER_TIMEOUT_S:.0f} s"
    if done.returncode == 0:
        try:
            doc = json.loads(done.stdout)
            doc["results"]  # noqa: B018 - check the shape here, not later
            return doc, ""
        except (ValueError, KeyError, TypeError):
            pass
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"worker process {index} exited with code {done.returncode}: {tail}"


def _merge(names: List[str], per_process: List[Dict[str, Dict[str, Any]]], failures: List[str]):
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


def _job(
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


def _learn_peaks(results: Dict[str, Any], peaks: Dict[str, int]) -> None:
    for name, result in results.items():
        if result.get("peak") is not None and name not in peaks:
            peaks[name] = int(result["peak"])


def _learn_loops(results: Dict[str, Any], loops: Dict[str, int]) -> None:
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


def run_suite(
    suite: str = "quick",
    *,
    callables: Sequence[str] = (),
    numerics: bool = True,
    processes: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    progress: Optional[Progress] = None,
) -> Tuple[BenchmarkRun, Optional[List[NumericResult]]]:
    """Run the ``quick`` or ``full`` suite, registered benchmarks and ``module:function``
    callables; with ``numerics``, the numeric probes too.

    The suite runs up to its number of worker processes (12 quick, 20 full), and at least its
    minimum (9, 15); past the minimum, only as many as fit in its time budget (2.5 s, 15 s) at
    the workers' typical duration so far. ``processes`` asks for exactly that many instead.
    ``env``: extra variables for the workers. The run records its conditions (load, others' CPU
    time, steal, frequency; see :mod:`.conditions`), with a warning when it was contended.
    Returns the :class:`~envparity.model.BenchmarkRun` (its ``processes``: how many ran) and the
    numeric results (``None`` without numerics).
    """
    from ..model import BenchmarkRun
    from . import conditions

    spec = _suite_spec(suite)
    n_proc = processes or spec.processes
    if n_proc < 1:
        raise BadInput(f"processes={n_proc}: need at least one worker process")
    callables = [parse_callable(c) for c in callables]
    specs, in_process = _specs(spec.names, callables)
    side = this_side(env)
    progress = progress or Progress(f"bench {suite}", n_proc)
    machine = conditions.machine()
    started = time.perf_counter()
    per_process: List[Dict[str, Dict[str, Any]]] = []
    seen: List[Dict[str, Any]] = []
    failures: List[str] = []
    loops: Dict[str, int] = {}
    peaks: Dict[str, int] = {}
    durations: List[float] = []
    try:
        for index in range(n_proc):
            if processes is None and index >= spec.min_processes:
                if time.perf_counter() - started + median(durations) > spec.budget_s:
                    break
            began = time.perf_counter()
            doc, why = _run_worker(side, _job(spec, specs, loops, index, peaks), index)
            durations.append(time.perf_counter() - began)
            progress.update(index + 1)
            if doc is None:
                failures.append(why)
                continue
            per_process.append(doc["results"])
            if doc.get("conditions"):
                seen.append(doc["conditions"])
            _learn_loops(doc["results"], loops)
            _learn_peaks(doc["results"], peaks)
        names = [s["name"] for s in specs]
        merged = _merge(names, per_process, failures)
        merged += _run_in_process(in_process, len(durations), spec.rounds, spec.warmups)
    finally:
        progress.close()
    run = BenchmarkRun(
        suite=suite,
        processes=len(durations),
        wall_seconds=round(time.perf_counter() - started, 4),
        results=merged,
        conditions=conditions_of(machine, seen),
        python=sys.executable,
        env=side.extra,
    )
    numeric_results = None
    if numerics:
        from .numerics import run_numerics

        numeric_results = run_numerics()
    return run, numeric_results


def _suite_spec(suite: str) -> Any:
    if suite not in SUITES:
        raise BadInput(f"--suite {suite!r}: unknown suite; choose one of {', '.join(SUITES)}")
    return SUITES[suite]


def schedule(n_rounds: int) -> List[Tuple[int, int]]:
    """The order of the two sides' workers in each round: ``(0, 1)`` A then B, ``(1, 0)`` B
    then A, counterbalanced in blocks of four rounds, AB BA BA AB.

    Every two rounds each side runs first once, so whatever favours the first (or the second)
    worker of a round (a CPU's frequency ramping up, a warm page cache, a neighbour that starts
    between them) falls on both sides alike; every four, each side also follows each side as
    often, so what one worker leaves behind for the next is balanced too, and a drift linear
    over the block cancels.
    """
    orders = []
    for index in range(n_rounds):
        block, second = divmod(index, 2)
        a_first = (block % 2 == 0) != (second == 1)
        orders.append((0, 1) if a_first else (1, 0))
    return orders


# The adaptive rounds of ``bench --against``: at least MIN_PAIRED_ROUNDS (a 99% signed-rank
# call needs 8), then two at a time (one AB, one BA) until every benchmark is settled or the
# time is up; never more than MAX_PAIRED_ROUNDS.
MIN_PAIRED_ROUNDS = 10
MAX_PAIRED_ROUNDS = 200


def _unsettled(
    names: List[str], per: List[List[Dict[str, Dict[str, Any]]]], min_effect: float
) -> List[str]:
    """The benchmarks whose paired verdict is still open: neither a call nor ``same``."""
    from .stats import decide_paired

    open_ = []
    for name in names:
        a = [p[name]["samples"] for p in per[0] if p.get(name, {}).get("status") == "ok"]
        b = [p[name]["samples"] for p in per[1] if p.get(name, {}).get("status") == "ok"]
        if len(a) != len(per[0]) or len(b) != len(per[1]) or not a:
            continue  # failed or skipped somewhere: more rounds will not help
        if decide_paired(a, b, min_effect=min_effect).verdict not in ("slower", "faster", "same"):
            open_.append(name)
    return open_


def run_against(
    python: str,
    suite: str = "quick",
    *,
    callables: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
    against_env: Optional[Dict[str, str]] = None,
    processes: Optional[int] = None,
    max_time: Optional[float] = None,
    min_effect: float = 0.05,
    progress: Optional[Progress] = None,
) -> Tuple[BenchmarkRun, BenchmarkRun]:
    """This environment (A, with ``env``) against ``python`` (B, with ``against_env``) on this
    host: one worker of each per round, in the counterbalanced order of :func:`schedule`, both
    started alike (:func:`paired_side`, :func:`launch`), so that neither side is favoured and load
    and frequency drift hit both alike.

    Adaptive: after :data:`MIN_PAIRED_ROUNDS` rounds, two more at a time while some benchmark's
    paired verdict (at ``min_effect``) is neither a call nor ``same``, until ``max_time`` seconds
    (default: the suite's ``against_s``) would be exceeded. ``processes`` runs exactly that many
    rounds instead. An untimed calibration worker of A runs first, so that no round's worker
    does more than the others (A's first worker used to calibrate, B's did not).

    Returns ``(A's run, B's run)`` with their workers in round order: the i-th process of one
    is paired with the i-th of the other. A round where either worker failed is dropped from
    both. Registered benchmarks that cannot run in a worker are left out (B cannot run them).
    """
    from ..model import BenchmarkRun
    from . import conditions

    spec = _suite_spec(suite)
    if processes is not None and processes < 1:
        raise BadInput(f"processes={processes}: need at least one round")
    if max_time is not None and not max_time > 0:
        raise BadInput(f"--max-time {max_time:g}: give a positive number of seconds")
    budget = max_time if max_time is not None else spec.against_s
    callables = [parse_callable(c) for c in callables]
    specs, _ = _specs(spec.names, callables)
    names = [s["name"] for s in specs]
    sides = [paired_side(sys.executable, env), other_side(python, against_env)]
    cap = processes or MAX_PAIRED_ROUNDS
    orders = schedule(cap)
    progress = progress or Progress(f"bench {suite} --against", 2 * processes if processes else 0)
    machine = conditions.machine()
    started = time.perf_counter()
    per: List[List[Dict[str, Dict[str, Any]]]] = [[], []]
    seen: List[List[Dict[str, Any]]] = [[], []]
    failures: List[List[str]] = [[], []]
    loops: Dict[str, int] = {}
    peaks: List[Dict[str, int]] = [{}, {}]
    durations: List[float] = []
    rounds = 0
    try:
        calibration = dict(_job(spec, specs, loops, 0, {}), rounds=0, peak=False)
        doc, _ = _run_worker(sides[0], calibration, -1, launch(sides[0], -1))
        if doc is not None:
            _learn_loops(doc["results"], loops)  # B times the same work as A
        for index in range(cap):
            if processes is None and index >= MIN_PAIRED_ROUNDS and index % 2 == 0:
                if not _unsettled(names, per, min_effect):
                    break
                if time.perf_counter() - started + 2 * median(durations) > budget:
                    break
            began = time.perf_counter()
            docs: List[Optional[Dict[str, Any]]] = [None, None]
            for k, which in enumerate(orders[index]):
                job = _job(spec, specs, loops, index, peaks[which])
                command = launch(sides[which], index)
                doc, why = _run_worker(sides[which], job, index, command)
                progress.update(2 * index + k + 1)
                if doc is None:
                    failures[which].append(why)
                docs[which] = doc
                if doc is not None:
                    _learn_peaks(doc["results"], peaks[which])
            durations.append(time.perf_counter() - began)
            rounds += 1
            if docs[0] is None or docs[1] is None:
                continue  # a round is a pair: half of one says nothing
            for which in (0, 1):
                doc = docs[which]
                assert doc is not None
                per[which].append(doc["results"])
                if doc.get("conditions"):
                    seen[which].append(doc["conditions"])
    finally:
        progress.close()
    wall = round(time.perf_counter() - started, 4)
    runs = []
    for which in (0, 1):
        runs.append(
            BenchmarkRun(
                suite=suite + PAIRED_SUFFIX,
                processes=rounds,
                wall_seconds=wall,
                results=_merge(names, per[which], failures[which]),
                conditions=conditions_of(machine, seen[which]),
                python=sides[which].python,
                env=sides[which].extra,
            )
        )
    return runs[0], runs[1]


def _run_in_process(benches: list, groups: int, rounds: int, warmups: int) -> list:
    """Registered benchmarks a worker cannot import, timed here in ``groups`` groups of rounds.

    The groups stand in for processes so the statistics stay the same shape, but they share this
    process's noise: the result's reason says so.
    """
    if not benches:
        return []
    from .worker import measure, user_timed

    per_group: List[Dict[str, Dict[str, Any]]] = []
    loops: Dict[str, int] = {}
    for index in range(groups):
        entries = [
            {
                "name": b.name,
                "build": (lambda b=b: user_timed(b.fn, b.setup)),
                "loops": loops.get(b.name),
            }
            for b in benches
        ]
        results = measure(entries, rounds=rounds, warmups=warmups, seed=index)
        per_group.append(results)
        for name, result in results.items():
            if result["status"] == "ok":
                loops.setdefault(name, result["loops"])
    merged = _merge([b.name for b in benches], per_group, [])
    notes = {b.name: b.why_in_process for b in benches}
    return [
        r.model_copy(update={"reason": f"ran in the calling process: {notes[r.name]}"})
        if r.status == "ok"
        else r
        for r in merged
    ]


def warn_if_contended(run: Any, stream: Any = None) -> None:
    """Say on stderr, when it is captured, that a run was contended (its warning is stored too)."""
    if run.conditions is not None and run.conditions.warning:
        (stream or sys.stderr).write(f"warning: {run.conditions.warning}\n")


def attach(
    snapshot: Any,
    suite: Optional[str],
    *,
    callables: Sequence[str] = (),
    numerics: Optional[bool] = None,
) -> Any:
    """``snapshot`` with benchmark results and numerics filled in, as ``envparity snapshot
    --bench SUITE [--numerics/--no-numerics] [--bench-callable M:F]`` asks.

    Numerics are on by default with a suite; ``numerics=True`` alone records them without timing
    anything. Both are instance-only fields, so the fingerprint does not change.
    """
    if callables and not suite:
        raise BadInput("--bench-callable needs --suite quick|full to say which suite to run with")
    if (suite or numerics) and snapshot.collection.interpreter:
        raise BadInput(
            "--python cannot be combined with --suite or --numerics: they measure this "
            "interpreter, not --python's; run envparity inside that environment to benchmark it"
        )
    update: Dict[str, Any] = {}
    if suite:
        run, numeric = run_suite(suite, callables=callables, numerics=numerics is not False)
        warn_if_contended(run)
        update["benchmarks"] = run
        if numeric is not None:
            update["numerics"] = numeric
    elif numerics:
        from .numerics import run_numerics

        update["numerics"] = run_numerics()
    return snapshot.model_copy(update=update) if update else snapshot
