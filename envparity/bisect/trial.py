"""Trials: each one a fresh child process of the candidate's interpreter with some differences
restored (variables set or unset, overlays first on its path, distributions hidden).

Nothing in the environment under test changes: the child's variables are its own, overlays live
in the bisect's temporary directory, and a hidden distribution is refused by a meta-path finder in
the child only. A child that runs past its share of the budget is killed (with everything it
started) and the trial reported as timed out. A trial whose overlays break imports (an old NumPy
under a SciPy built for a newer one) is retried once with the overlaid packages' dependents
restored too, and the report says so; that pairing is remembered for the trials that follow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from .. import interpreter
from .classify import ENV, HIDE, OVERLAY, Difference
from .overlay import Overlays

OK = "ok"
IMPORT_ERROR = "import_error"
TIMEOUT = "timeout"
CRASHED = "crashed"


@dataclass
class Trial:
    """One child process run and what it measured."""

    index: int
    restored: List[str]
    with_dependents: List[str] = field(default_factory=list)
    seconds: float = 0.0
    status: str = OK
    detail: str = ""
    answer: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Trials:
    """Runs trials for one bisect and keeps them, in order."""

    python: str
    differences: Dict[str, Difference]
    overlays: Overlays
    probes: Sequence[str] = ()
    bench: Sequence[str] = ()
    baseline_python: Optional[str] = None
    processes: int = 12  # per side, as the quick suite: the fastest process decides
    timeout: Callable[[], float] = lambda: 600.0
    log: List[Trial] = field(default_factory=list)
    dependents: Dict[str, List[str]] = field(default_factory=dict)  # package -> dependents
    learned: Dict[str, Set[str]] = field(default_factory=dict)  # package -> restore with these
    # Probes that ran in the candidate as it is: one that fails under an overlay was broken by
    # it (an extension built for another NumPy raises ValueError or AttributeError, not only
    # ImportError).
    ran_before: Set[str] = field(default_factory=set)

    # --- environments ----------------------------------------------------------------------

    def environ(self, keys: FrozenSet[str]) -> Dict[str, str]:
        """This process's environment with the restored variables of ``keys``."""
        env = dict(os.environ)
        for key in sorted(keys):
            d = self.differences[key]
            if d.kind == ENV:
                for name, value in d.variables.items():
                    if value is None:
                        env.pop(name, None)
                    else:
                        env[name] = value
        return env

    def baseline_environ(self) -> Dict[str, str]:
        """The environment the baseline's interpreter runs in: every variable restored."""
        return self.environ(frozenset(k for k, d in self.differences.items() if d.kind == ENV))

    def closure(self, keys: FrozenSet[str]) -> FrozenSet[str]:
        """``keys`` plus the dependents learned to be needed with its overlays."""
        out = set(keys)
        todo = list(keys)
        while todo:
            for dep in self.learned.get(todo.pop(), ()):
                if dep not in out:
                    out.add(dep)
                    todo.append(dep)
        return frozenset(out)

    # --- running ---------------------------------------------------------------------------

    def child(self, keys: FrozenSet[str], **extra: Any) -> Tuple[str, str, Dict[str, Any], float]:
        """Run one child: ``(status, detail, answer, seconds)``."""
        pins = [
            (d.package or d.key, d.version or "")
            for d in (self.differences[k] for k in sorted(keys))
            if d.kind == OVERLAY
        ]
        hidden = [self.differences[k].package or k for k in sorted(keys)
                  if self.differences[k].kind == HIDE]
        args: Dict[str, Any] = {
            "hide": hidden,
            "probes": list(self.probes),
            "bench": list(self.bench),
            "processes": self.processes,
            "baseline_python": self.baseline_python,
            "baseline_env": self.baseline_environ() if self.baseline_python else None,
        }
        args.update(extra)
        limit = max(1.0, self.timeout())
        got = interpreter.call(
            self.python,
            "envparity.bisect.child:main",
            [args],
            site_dirs=self.overlays.paths(pins),  # first on its path
            cwd_on_path=True,  # the user's probe modules are found there
            env=self.environ(keys),
            timeout=limit,
            new_session=True,  # its own process group: a timeout kills its workers too
        )
        seconds = got.seconds
        if got.failure == interpreter.TIMEOUT:
            why = f"killed after {limit:.0f} s, its share of the remaining budget"
            return TIMEOUT, why, {}, seconds
        if got.failure == interpreter.CANNOT_RUN:
            return CRASHED, f"the child could not start: {got.detail}", {}, seconds
        answer = got.answer
        if not isinstance(answer, dict):  # an answer before a crash in its teardown still counts
            tail = got.last_line(300)
            return CRASHED, f"the child exited with code {got.returncode}: {tail}", {}, seconds
        errors = list(answer.get("import_errors") or [])
        if keys:
            errors += [
                f"probe {name}: {probe.get('reason')}"
                for name, probe in sorted((answer.get("probes") or {}).items())
                if probe.get("status") != "ok" and name in self.ran_before
            ]
        if errors:
            return IMPORT_ERROR, str(errors[0]), answer, seconds
        return OK, "", answer, seconds

    def run(self, keys: FrozenSet[str]) -> Trial:
        """A trial restoring ``keys`` (and dependents learned to go with them); retried once
        with the dependents of its overlays when those break imports."""
        wanted = self.closure(keys)
        status, detail, answer, seconds = self.child(wanted)
        trial = Trial(len(self.log) + 1, sorted(keys), sorted(wanted - keys), seconds, status,
                      detail, answer)
        if status in (IMPORT_ERROR, CRASHED) and self._overlaid(wanted):
            deps = self._dependents(wanted)
            if deps:
                first = detail
                retry = frozenset(wanted | deps)
                status, detail, answer, more = self.child(retry)
                if status == OK:  # remembered only when restoring them together worked
                    for key in self._overlaid(wanted):
                        self.learned.setdefault(key, set()).update(
                            d for d in deps if d in self.dependents.get(key, ())
                        )
                names = ", ".join(self._pin(k) for k in sorted(deps))
                note = (
                    f"overlay could not import ({first}); retried with its dependents restored "
                    f"together: {names}"
                )
                trial.with_dependents = sorted(retry - keys)
                trial.seconds += more
                trial.status, trial.answer = status, answer
                trial.detail = note + (f"; the retry: {detail}" if detail else "")
            else:
                trial.detail = f"overlay could not import ({detail}) and has no restorable " \
                    "dependents"
        self.log.append(trial)
        return trial

    def _overlaid(self, keys: FrozenSet[str]) -> List[str]:
        return [k for k in sorted(keys) if self.differences[k].kind in (OVERLAY, HIDE)]

    def _dependents(self, keys: FrozenSet[str]) -> Set[str]:
        out: Set[str] = set()
        for key in self._overlaid(keys):
            for dep in self.dependents.get(key, ()):
                if dep in self.differences and dep not in keys:
                    if self.differences[dep].kind == OVERLAY:
                        out.add(dep)
        return out

    def _pin(self, key: str) -> str:
        d = self.differences[key]
        return f"{d.key}=={d.version}" if d.kind == OVERLAY and d.version else d.key

    def inventory(self, names: List[str]) -> Dict[str, Any]:
        """Top-level modules and dependents of the candidate's distributions ``names``."""
        status, detail, answer, _ = self.child(frozenset(), inventory=names, probes=[], bench=[])
        found = answer.get("inventory") or {}
        for name, info in found.items():
            self.dependents[name] = list(info.get("dependents") or [])
        return dict(found)

    def close(self) -> None:
        """Nothing to remove: a child's answer comes back on its stdout, not in a file."""
