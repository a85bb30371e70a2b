"""The start-up check itself: snapshot, store (or spool), compare with the baseline, in a budget.

The work runs in a daemon thread that the caller joins with the time budget, because a database
that does not answer, a slow disk or a probe that hangs must not hold the server back: past the
budget the caller goes on, spooling the snapshot first when one was captured but not stored.
Every failure of envparity is caught here and kept as one line in ``Outcome.problems``.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Mapping, Optional

from ..errors import BadInput, EnvparityError, StoreError
from . import cache
from .config import HookConfig

# Re-exported: the tests name these here.
from .database import _creating, _db_limit, _describe, _left, _store_and_resolve, _within
from .database import _preflight as _preflight
from .database import _resolve_data as _resolve_data
from .database import spool_unsaved as spool_unsaved
from .deferred import _defer
from .outcome import Outcome as Outcome
from .outcome import _compare, _recall, _valid_labels


def _with_probes(
    outcome: Outcome, snap: Dict[str, Any], environ: Mapping[str, str]
) -> Dict[str, Any]:
    """The parity probes of ENVPARITY_PROBES' modules, run inside the check's time budget (only
    when asked: they run the user's code, and pay for the snapshot model)."""
    from ..parity.loading import env_probes

    modules = env_probes(dict(environ))
    if not modules:
        return snap
    outcome.stage = "running the parity probes"
    try:
        from ..collect.capture import to_snapshot
        from ..parity.loading import attach_registered, import_probes

        import_probes(modules, source="ENVPARITY_PROBES")
        probed: Dict[str, Any] = attach_registered(to_snapshot(snap)).model_dump(mode="json")
        return probed
    except EnvparityError as e:
        outcome.problem(f"probes: {e}")
        return snap


def _model_record(outcome: Outcome, snap: Dict[str, Any], environ: Mapping[str, str]) -> None:
    """ENVPARITY_MODEL's build-time records (``snapshot --model`` when the image was built),
    found by path, size and mtime: the model is never hashed or scanned here. A model without a
    record, or one that cannot be read, is a logged problem; the server still starts."""
    from ..relevance.record import model_paths, recall

    records: List[Dict[str, Any]] = []
    for path in model_paths((), environ):
        try:
            found = recall(path, environ)
        except EnvparityError as e:
            outcome.problem(f"{e}; relevance from the baseline only")
            continue
        if found is None:
            outcome.problem(
                f"model {path}: no build-time record (run `envparity snapshot --model {path}` "
                "when building the image); relevance from the baseline only"
            )
            continue
        records.extend(found)
    if records:
        snap["relevance"] = {"loaded": None, "dependencies": {}, "models": records}


def _work(outcome: Outcome, environ: Mapping[str, str]) -> None:
    from ..collect.capture import collect_data
    from ..collect.interface import Context
    from ..refs import is_file_ref

    config = outcome.config
    outcome.stage = "capturing the snapshot"
    # No subprocess on the start-up path (git would cost a fork and exec per start), and plain
    # JSON data, as `snapshot --no-store` writes it: no pydantic model to build.
    from ..labels import label_problems, role_problem

    # A bad label or role is dropped with a logged problem; the snapshot is still stored.
    for _key, why in label_problems(config.labels):
        outcome.problem(f"label dropped: {why}")
    role = config.role
    if role and role_problem(role):
        outcome.problem(f"role dropped: {role_problem(role)}")
        role = ""
    snap = collect_data(
        role=role, labels=_valid_labels(config.labels), ctx=Context(subprocess=False)
    )
    _model_record(outcome, snap, environ)
    if not outcome.publish(snap):
        return  # past the budget: the log says no snapshot was taken, and none was
    probed = _with_probes(outcome, snap, environ)
    if probed is not snap:
        # Set only once the probes are done: past the budget, the plain snapshot is spooled.
        snap = probed
        if not outcome.publish(snap):
            return
    ref = config.baseline
    baseline: Optional[Dict[str, Any]] = None
    store_ref = ref if ref and not is_file_ref(ref) else None
    if outcome.deferred and _defer(outcome, snap, store_ref, environ):
        return
    if ref and not store_ref:
        outcome.stage = "reading the baseline file"
        try:
            from ..refs import load_file

            baseline = load_file(ref).model_dump(mode="json")
            outcome.baseline_source = "file"
        except EnvparityError as e:
            outcome.problem(f"baseline: {e}")

    def meanwhile() -> None:
        # A baseline file needs no store: compare while the store takes the snapshot.
        if baseline is not None and store_ref is None:
            outcome.stage = "comparing with the baseline"
            outcome.report = _compare(outcome, baseline, snap)

    half = max(0.05, config.budget_s / 2)
    # The store's own timeouts (ENVPARITY_DB_TIMEOUT) a little inside half the budget, so that
    # they, and not the deadline, name the cause when they fire.
    limit = min(_db_limit(outcome), half * 0.85)
    # Creating a SQLite store (a first start) is local work that may take the rest of the
    # budget; only a store that exists, or a server, is cut off at half of it.
    deadline = max(half, _left(outcome) - 0.1) if _creating(config.db_url) else half
    try:
        baseline = (
            _within(
                outcome,
                deadline,
                lambda: _store_and_resolve(outcome, snap, store_ref, environ, limit),
                meanwhile,
            )
            or baseline
        )
        if store_ref and baseline is not None:
            outcome.baseline_source = "store"
            cache.remember(store_ref, config.db_url, baseline, environ)
    except BadInput as e:
        # The store answered, but the ref names nothing (or too much): a cached copy would hide it.
        outcome.problem(f"baseline {store_ref!r}: {e}")
    except Exception as e:
        # A StoreError names the store; anything else (a driver that is not installed) does not.
        why = str(e) if isinstance(e, StoreError) else f"store {outcome.db}: {_describe(e)}"
        lost = "baseline not resolved" if outcome.stored == "store" else "snapshot not stored"
        outcome.problem(f"{lost}: {why}")
        spool_unsaved(outcome, environ)
        with outcome.lock:
            found = outcome.found_baseline
        if store_ref and found is not None:
            # The store gave the baseline before it stopped answering (a locked writer).
            baseline = found
            outcome.baseline_source = "store"
            cache.remember(store_ref, config.db_url, found, environ)
        elif store_ref and outcome.baseline_source is None:
            baseline = _recall(outcome, store_ref, environ)
            if baseline is None:
                outcome.problem(
                    f"baseline {store_ref!r} is not in the local cache either "
                    "(it is cached by the first start that reaches the store)"
                )
            else:
                outcome.baseline_source = "cache"
    if baseline is None or outcome.report is not None:
        return
    outcome.stage = "comparing with the baseline"
    outcome.report = _compare(outcome, baseline, snap)


def work(outcome: Outcome, environ: Mapping[str, str]) -> None:
    """Do the whole check into ``outcome``; never raises (a bug in envparity is a problem line)."""
    try:
        _work(outcome, environ)
        outcome.stage = "done"
    except BaseException as e:
        outcome.problem(f"internal error while {outcome.stage}: {_describe(e)}")
        # Whatever failed after the capture, the snapshot is kept.
        spool_unsaved(outcome, environ)
    finally:
        outcome.elapsed_ms = (time.monotonic() - outcome.started) * 1000


def check(
    config: HookConfig,
    environ: Mapping[str, str],
    problems: Optional[List[str]] = None,
    *,
    defer: bool = False,
) -> Outcome:
    """Run the check in a daemon thread for at most ``config.budget_s`` seconds.

    Past the budget the thread is left behind (an ``exec`` ends it; in-process it finishes on its
    own) and a captured but unstored snapshot is spooled first. With ``defer`` (``envparity
    run``), the snapshot is spooled and ``outcome.job`` says what the writer is to store after
    start-up (:func:`envparity.hook.writer.spawn`).
    """
    outcome = Outcome(config, deferred=defer)
    for problem in problems or []:
        outcome.problem(problem)
    thread = threading.Thread(
        target=work, args=(outcome, environ), name="envparity-startup-check", daemon=True
    )
    try:
        thread.start()
    except RuntimeError as e:  # no thread to be had (a process at its limit): check inline
        outcome.problem(f"cannot start a thread ({e}); checked without the time budget")
        work(outcome, environ)
        return outcome
    thread.join(config.budget_s)
    with outcome.lock:  # what is published now is what is spooled and logged
        outcome.closed = thread.is_alive()
    if outcome.closed:
        outcome.timed_out = True
        outcome.problem(
            f"the check did not finish within its {config.budget_s:g} s budget "
            f"(still {outcome.stage}; raise --budget / ENVPARITY_BUDGET_S)"
        )
        spool_unsaved(outcome, environ)
        outcome.elapsed_ms = (time.monotonic() - outcome.started) * 1000
    return outcome
