"""``bisect``: which of the differences between the baseline and here causes the symptom.

1. Drift between the baseline and the candidate, each finding sorted by :mod:`.classify`.
2. The symptom must show in the candidate as it is (a trial restoring nothing); if it does not,
   there is nothing to bisect.
3. Restoring every testable difference must remove it; if it does not, the cause is among the
   untestable differences, which are listed.
4. ddmin (:mod:`.ddmin`) over the restorable differences, one search per symptom, all sharing one
   cache of trials (:mod:`.trial`), then a search for alternative causes among the rest.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ..errors import BadInput
from . import symptom as sym
from .classify import HIDE, OVERLAY, UNTESTABLE, Difference, classify
from .ddmin import expected_tests
from .overlay import Overlays
from .report import _prerequisites as _prerequisites
from .report import _report
from .search import _reproduce, _State
from .search import _search as _search
from .trial import Trials

if TYPE_CHECKING:
    from ..model import Snapshot
    from .model import BisectReport

MIN_TRIAL_S = 30.0
TOOL_PACKAGES = ("envparity",)  # on one side only is not a difference of the environment


def drift_findings(baseline: Snapshot, candidate: Snapshot) -> List[Dict[str, Any]]:
    """Every difference as plain finding dicts (no policy: an ignored key may be the cause)."""
    from ..comparison import compare as diff

    report = diff(baseline, candidate)
    return [f.model_dump(mode="json") for f in report.findings]


#: The longest --budget taken: a week of trials is more than any search needs.
MAX_BUDGET_S = 7 * 24 * 3600.0


def _check(probes: Sequence[str], bench: Sequence[str], max_trials: int, budget: float) -> None:
    from ..bench.suite import BUILTINS

    if not probes and not bench:
        raise BadInput(
            "nothing to bisect: name the symptom with --probes MODULE (your parity probes) "
            "and/or --bench NAME (a built-in benchmark)"
        )
    for name in bench:
        if name not in BUILTINS:
            raise BadInput(
                f"--bench {name!r}: not a built-in benchmark; choose from {', '.join(BUILTINS)}"
            )
    if max_trials < 2:
        raise BadInput(f"--max-trials {max_trials}: need at least 2 (the candidate, and all)")
    if not 0 < budget <= MAX_BUDGET_S:  # also NaN; a larger timeout overflows time_t in waits
        raise BadInput(
            f"--budget {budget:g}: give a number of seconds above 0 and at most "
            f"{MAX_BUDGET_S:g} (a week)"
        )


def _baseline_python(baseline: Snapshot) -> Optional[str]:
    """The baseline's interpreter when it is on this machine and still has the baseline's
    packages (then benchmarks are interleaved with it), else None."""
    path = baseline.python.executable
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        return None
    from ..collect.capture import capture

    try:
        now = capture(python=path)
    except Exception:  # noqa: BLE001 - an interpreter that cannot be read is not reachable
        return None
    def pins(packages: Any) -> List[Any]:
        return [(p.name, p.version) for p in packages if p.name not in TOOL_PACKAGES]

    return path if pins(now.packages) == pins(baseline.packages) else None


def bisect(
    baseline: Snapshot,
    *,
    baseline_ref: str = "",
    probes: Sequence[str] = (),
    bench: Sequence[str] = (),
    python: Optional[str] = None,
    find_links: Sequence[str] = (),
    index_url: Optional[str] = None,
    max_trials: int = 64,
    budget: float = 600.0,
    keep: bool = False,
    candidate: Optional[Snapshot] = None,
) -> BisectReport:
    """Find minimal sets of differences whose restoration removes the symptom (see module)."""
    _check(probes, bench, max_trials, budget)
    started = time.perf_counter()
    deadline = started + budget
    python = python or sys.executable
    if candidate is None:
        from ..collect.capture import capture

        same = os.path.abspath(python) == os.path.abspath(sys.executable)
        candidate = capture(python=None if same else python)
    variables = {**baseline.env, **baseline.determinism.env}
    diffs = classify(drift_findings(baseline, candidate), variables)
    stored_probes = sym.baseline_outputs(baseline.numerics)
    stored_bench = sym.baseline_samples(baseline.benchmarks)
    base_python = _baseline_python(baseline) if bench else None
    notes: List[str] = []
    if bench:
        notes.append(
            f"benchmarks interleaved with the baseline's interpreter {base_python}"
            if base_python
            else "benchmarks compared with the baseline's stored results (its interpreter is "
            "not reachable here): a quiet machine matters"
        )
        missing = [b for b in bench if not base_python and b not in stored_bench]
        if missing:
            raise BadInput(
                f"--bench {missing[0]}: the baseline has no results for it and its interpreter "
                "is not reachable here; snapshot the baseline with --bench quick|full"
            )

    overlays = Overlays(python, find_links=find_links, index_url=index_url)
    ids = _ids(diffs)
    pending = {"trials": expected_tests(sum(d.restorable for d in diffs)) + 2}
    trials = Trials(
        python,
        {ids[id(d)]: d for d in diffs},
        overlays,
        probes=probes,
        bench=bench,
        baseline_python=base_python,
    )
    state = _State(trials, max_trials, deadline, pending)

    def share() -> float:
        """This trial's time: the remaining budget over the trials ddmin may still need."""
        left = max(1, min(pending["trials"], max_trials - len(trials.log)))
        return max(MIN_TRIAL_S, (deadline - time.perf_counter()) / left)

    trials.timeout = share
    try:
        symptoms = _reproduce(trials, state, probes, bench, stored_probes, stored_bench, notes)
        if symptoms:
            pending["trials"] = expected_tests(len(trials.differences)) * len(symptoms) + 1
            _prepare(trials, diffs, ids)
            results = _search(state, symptoms, [ids[id(d)] for d in diffs if d.restorable])
        else:
            results = []
    finally:
        trials.close()
        if not keep:
            overlays.remove()
    return _report(
        baseline, baseline_ref, python, diffs, ids, trials, state, symptoms, results, notes,
        started, budget, max_trials, overlays.root if keep else None,
    )


def _ids(diffs: List[Difference]) -> Dict[int, str]:
    """A unique id per difference: its finding key, or category:key when two share a key."""
    counts: Dict[str, int] = {}
    for d in diffs:
        counts[d.key] = counts.get(d.key, 0) + 1
    return {id(d): d.key if counts[d.key] == 1 else d.label for d in diffs}



def _prepare(trials: Trials, diffs: List[Difference], ids: Dict[int, str]) -> None:
    """Overlays for every restorable package; one that cannot be built is not testable."""
    packages = [d for d in diffs if d.kind in (OVERLAY, HIDE)]
    if not packages:
        return
    trials.inventory([d.package or d.key for d in packages])
    pins = [(d.package or d.key, d.version or "") for d in packages if d.kind == OVERLAY]
    trials.overlays.prepare(pins)
    for d in packages:
        why = trials.overlays.failed.get(f"{d.package}=={d.version}")
        if d.kind == OVERLAY and why:
            d.kind, d.reason = UNTESTABLE, why

