"""The ``bisect`` report assembled from its searches: the differences, each symptom's cause
sets (with the keys the rest needs just to import), the trials, and the overall outcome.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional

from . import symptom as sym
from .classify import Difference
from .ddmin import UNRESOLVED
from .search import _Result, _State
from .trial import IMPORT_ERROR, OK, Trials

if TYPE_CHECKING:
    from ..model import Snapshot
    from .model import BisectReport


# An unexplained symptom with no untestable difference to blame: the cause is not recorded.
_UNRECORDED = (
    "no recorded difference explains it: the cause is something neither snapshot records (an "
    "unrecorded variable or file); compare the two environments by hand and report it"
)


def _prerequisites(keys: FrozenSet[str], state: _State) -> FrozenSet[str]:
    """Keys of a cause set that the rest needs just to import: restoring the set without one of
    them could not even import (a prerequisite, not an interaction)."""
    if len(keys) < 2:
        return frozenset()
    needed = frozenset(
        k for k in keys
        if (t := state.cache.get(keys - {k})) is not None and t.status == IMPORT_ERROR
    )
    return needed if needed != keys else frozenset()


def _report(
    baseline: Snapshot,
    baseline_ref: str,
    python: str,
    diffs: List[Difference],
    ids: Dict[int, str],
    trials: Trials,
    state: _State,
    symptoms: List[sym.Symptom],
    results: List[_Result],
    notes: List[str],
    started: float,
    budget: float,
    max_trials: int,
    kept: Optional[str],
) -> BisectReport:
    from .model import BisectReport, CauseSet, DifferenceRow, SymptomReport, TrialRow

    restorable = [ids[id(d)] for d in diffs if d.restorable]
    untestable = [ids[id(d)] for d in diffs if not d.restorable]
    rows = [
        DifferenceRow(
            key=ids[id(d)], category=d.category, kind=d.kind,  # type: ignore[arg-type]
            baseline=d.baseline, candidate=d.candidate, reason=d.reason, related=d.related,
        )
        for d in diffs
    ]
    reports = []
    for r in results or [_Result(s) for s in symptoms]:
        s = r.symptom
        causes = []
        for search in r.searches:
            keys = frozenset(search.minimal)
            t = state.cache.get(keys)
            after = sym.judge(s, t.answer) if t is not None and t.status == OK else None
            needed = _prerequisites(keys, state)
            causes.append(
                CauseSet(
                    keys=sorted(keys - needed),
                    interaction=len(keys - needed) > 1,
                    restored_with=list(t.with_dependents) if t else [],
                    prerequisites=sorted(needed),
                    minimal=search.complete,
                    after=after.detail if after else "",
                    ratio_after=after.ratio if after else None,
                )
            )
        used = {k for c in causes for k in c.keys} | {k for c in causes for k in c.restored_with}
        reports.append(
            SymptomReport(
                name=s.name,
                kind=s.kind,  # type: ignore[arg-type]
                status=r.status,  # type: ignore[arg-type]
                before=s.before.detail if s.before else "",
                ratio_before=s.before.ratio if s.before else None,
                causes=causes,
                not_needed=sorted(k for k in restorable if k not in used) if causes else [],
                untestable=untestable if r.status == "unexplained" else [],
                note=_UNRECORDED if r.status == "unexplained" and not untestable else r.note,
            )
        )
    reproduced = [x for x in reports if x.status != "not_reproduced"]
    if not reproduced:
        outcome = "not_reproduced"
    elif all(x.status == "explained" for x in reproduced):
        outcome = "cause_found"
    else:
        outcome = "unexplained"
    trial_rows = [
        TrialRow(
            index=t.index,
            restored=t.restored,
            with_dependents=t.with_dependents,
            seconds=round(t.seconds, 3),
            status=t.status,  # type: ignore[arg-type]
            outcomes={
                s.name: (sym.judge(s, t.answer).outcome if t.status == OK else UNRESOLVED)
                for s in symptoms
            },
            detail=t.detail,
        )
        for t in trials.log
    ]
    return BisectReport(
        baseline=baseline_ref or baseline.snapshot_id,
        baseline_id=baseline.snapshot_id,
        candidate=python,
        outcome=outcome,  # type: ignore[arg-type]
        symptoms=reports,
        differences=rows,
        trials=trial_rows,
        wall_seconds=round(time.perf_counter() - started, 3),
        budget_seconds=budget,
        max_trials=max_trials,
        stopped=state.stopped,
        overlays=kept,
        notes=notes,
    )
