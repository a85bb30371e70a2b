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
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from ..errors import BadInput
from . import symptom as sym
from .classify import HIDE, OVERLAY, UNTESTABLE, Difference, classify
from .ddmin import (
    GONE,
    PRESENT,
    UNRESOLVED,
    Exhausted,
    Oracle,
    Search,
    alternatives,
    expected_tests,
)
from .overlay import Overlays
from .trial import IMPORT_ERROR, OK, Trial, Trials

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


class _State:
    """The shared trial cache and the limits every search draws on."""

    def __init__(self, trials: Trials, max_trials: int, deadline: float, pending: Dict[str, int]):
        self.trials = trials
        self.max_trials = max_trials
        self.deadline = deadline
        self.pending = pending
        self.cache: Dict[FrozenSet[str], Trial] = {}
        self.stopped: Optional[str] = None

    def trial(self, keys: FrozenSet[str], *, force: bool = False) -> Trial:
        if keys in self.cache:
            return self.cache[keys]
        if not force:
            if len(self.trials.log) >= self.max_trials:
                self.stopped = f"--max-trials {self.max_trials} reached"
                raise Exhausted(self.stopped)
            if time.perf_counter() >= self.deadline:
                self.stopped = "--budget spent"
                raise Exhausted(self.stopped)
        found = self.trials.run(keys)
        self.cache[keys] = found
        self.pending["trials"] = max(1, self.pending["trials"] - 1)
        return found

    def outcome(self, symptom: sym.Symptom, keys: FrozenSet[str], force: bool = False) -> str:
        found = self.trial(keys, force=force)
        if found.status != OK:
            return UNRESOLVED
        return self.judge(symptom, found, force=force).outcome

    def judge(self, symptom: sym.Symptom, found: Trial, force: bool = False) -> sym.Judgement:
        """The symptom in ``found``; a benchmark too noisy to call is measured once more and
        the worker processes of both runs pooled (a busy neighbour rarely spans both)."""
        verdict = sym.judge(symptom, found.answer)
        if verdict.outcome != UNRESOLVED or symptom.kind != sym.BENCHMARK:
            return verdict
        if found.answer.get("pooled"):
            return verdict
        if not force and (
            len(self.trials.log) >= self.max_trials or time.perf_counter() >= self.deadline
        ):
            return verdict
        again = self.trials.run(frozenset(found.restored))
        again.detail = (again.detail + "; " if again.detail else "") + (
            f"measured again, pooled with trial {found.index}: {verdict.detail}"
        )
        found.answer["pooled"] = True
        if again.status == OK:
            for name, sides in (again.answer.get("bench") or {}).items():
                mine = found.answer.setdefault("bench", {}).setdefault(name, {})
                for side, samples in sides.items():
                    mine.setdefault(side, []).extend(samples)
        return sym.judge(symptom, found.answer)


def _reproduce(
    trials: Trials,
    state: _State,
    probes: Sequence[str],
    bench: Sequence[str],
    stored_probes: Dict[str, Dict[str, Any]],
    stored_bench: Dict[str, List[List[float]]],
    notes: List[str],
) -> List[sym.Symptom]:
    """The symptoms that show in the candidate as it is (a trial restoring nothing)."""
    first = state.trial(frozenset(), force=True)
    if first.status != OK:
        raise BadInput(
            f"the symptom cannot be measured in the candidate as it is: {first.detail}; check "
            "that --probes names modules importable from the current directory"
        )
    answer = first.answer
    found: List[sym.Symptom] = []
    registered = answer.get("probes") or {}
    trials.ran_before = {n for n, p in registered.items() if p.get("status") == "ok"}
    if probes and not registered:
        raise BadInput(
            f"--probes {' '.join(probes)}: no probe registered; call "
            "envparity.register_probe(name, fn, inputs) when the module is imported"
        )
    for name, output in registered.items():
        base = stored_probes.get(name)
        if base is None:
            notes.append(
                f"probe {name}: the baseline has no stored output for it; snapshot the baseline "
                "with the probe registered"
            )
            continue
        match, detail = sym.compare_probe(base, output)
        s = sym.Symptom(name, sym.PROBE, base)
        s.before = sym.Judgement(GONE if match else PRESENT, detail)
        s.extra["failed_before"] = output.get("status") != "ok"
        found.append(s)
    if registered and not found:
        raise BadInput(
            f"the baseline has no stored output for probe(s) {', '.join(sorted(registered))}: "
            "snapshot the baseline with the probes registered, so there is something to "
            "compare with"
        )
    for name in bench:
        s = sym.Symptom(name, sym.BENCHMARK, stored_bench.get(name))
        s.before = state.judge(s, first, force=True)
        verdict = s.before.detail.split(":", 1)[0]
        s.direction = verdict if verdict in ("slower", "faster") else ""
        if s.before.outcome == UNRESOLVED:
            s.before = sym.Judgement(UNRESOLVED, s.before.detail, s.before.ratio, s.before.ci)
        found.append(s)
    return found


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


class _Result:
    def __init__(self, s: sym.Symptom):
        self.symptom = s
        self.status = "not_reproduced"
        self.searches: List[Any] = []
        self.note = ""


def _search(state: _State, symptoms: List[sym.Symptom], restorable: List[str]) -> List[_Result]:
    out: List[_Result] = []
    everything = frozenset(restorable)
    for s in symptoms:
        r = _Result(s)
        out.append(r)
        if s.before is None or s.before.outcome != PRESENT:
            if s.before is not None and s.before.outcome == UNRESOLVED:
                r.note = "could not tell whether it shows in the candidate: " + s.before.detail
            continue
        # Always run, past the limits too: without it nothing can be said at all.
        verdict = state.outcome(s, everything, force=True) if restorable else PRESENT
        if verdict == PRESENT:
            r.status = "unexplained"
            r.note = (
                "restoring every testable difference leaves the symptom: the cause is among "
                "the differences that cannot be tested here"
                if restorable
                else "no difference can be restored here: the cause is among the untestable ones"
            )
            continue
        if verdict == UNRESOLVED:
            r.status = "unresolved"
            r.note = "the trial restoring every testable difference could not run: " + (
                state.trial(everything).detail or "see the trials"
            )
            continue
        def test(keys: FrozenSet[str], s: sym.Symptom = s) -> str:
            return state.outcome(s, keys)

        oracle: Oracle[str] = Oracle(test)
        oracle.cache[everything] = GONE
        r.searches, complete = alternatives(restorable, oracle)
        notes: List[str] = []
        if s.kind == sym.BENCHMARK and r.searches:
            r.searches, notes = _confirm(state, s, r.searches)
        r.status = "explained" if r.searches else "unresolved"
        if not complete:
            notes.insert(0, f"search stopped early ({state.stopped}): the sets may not be minimal")
        r.note = "; ".join(notes)
    return out


def _confirm(
    state: _State, s: sym.Symptom, searches: List[Search[str]]
) -> Tuple[List[Search[str]], List[str]]:
    """A benchmark's cause sets, each confirmed by measuring again (never from the cache).

    One timing on a busy machine can come out fast or slow by chance, and ddmin believes each
    answer: a variable nothing reads (MKL_CBWR for OpenBLAS, TZ for a GEMM) once looked needed.
    So every key of a set must be needed again (restoring the set without it, measured afresh,
    must not remove the symptom) and the set must remove the symptom again. A key that is not
    needed is dropped; a set that does not remove the symptom again is not a cause, and the
    note says it was unconfirmed. Returns the confirmed sets and the notes.
    """
    confirmed: List[Search[str]] = []
    notes: List[str] = []
    for search in searches:
        keys = sorted(search.minimal)
        for key in list(keys):
            if len(keys) == 1:
                break
            without = frozenset(k for k in keys if k != key)
            outcome, detail = _replicate(state, s, without)
            if outcome == GONE:
                keys.remove(key)
                rest = ", ".join(sorted(without))
                notes.append(
                    f"{key}: not needed when measured again (restoring {rest} alone removed "
                    f"the symptom: {detail})"
                )
        outcome, detail = _replicate(state, s, frozenset(keys))
        if outcome != GONE:
            notes.append(
                f"{' + '.join(keys)}: removed the symptom once but not when measured again "
                f"({detail}): unconfirmed, not named as a cause"
            )
        elif all(sorted(c.minimal) != keys for c in confirmed):
            confirmed.append(Search(keys, search.complete and keys == sorted(search.minimal)))
    return confirmed, notes


def _replicate(state: _State, s: sym.Symptom, keys: FrozenSet[str]) -> Tuple[str, str]:
    """The symptom in a fresh trial restoring ``keys``: its outcome and evidence. Runs past the
    limits: a cause is never named unconfirmed to save one trial."""
    found = state.trials.run(keys)
    found.detail = (found.detail + "; " if found.detail else "") + "measured again to confirm"
    if found.status != OK:
        return UNRESOLVED, found.detail
    judged = state.judge(s, found, force=True)
    state.cache.setdefault(keys, found)
    return judged.outcome, judged.detail


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
