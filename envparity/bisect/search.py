"""The searches of ``bisect``: the trial cache and limits they share (:class:`_State`), the
symptoms as the candidate shows them (:func:`_reproduce`), one ddmin search per symptom
(:func:`_search`) and the re-measurement that confirms a benchmark's causes (:func:`_confirm`).
"""

from __future__ import annotations

import time
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from ..errors import BadInput
from . import symptom as sym
from .ddmin import GONE, PRESENT, UNRESOLVED, Exhausted, Oracle, Search, alternatives
from .trial import OK, Trial, Trials


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
