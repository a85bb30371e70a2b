"""The default warn mode's way of storing: spool first, exec, and let a writer that outlives the
exec store it; ``--on-drift fail`` reads the fresh baseline first (one indexed query).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ..errors import BadInput, EnvparityError, StoreError
from . import cache
from .database import _db_limit, _describe, _preflight, _resolve_data, _within
from .outcome import Outcome, _compare, _recall
from .spool import dropped_at, spool_data


def _defer(
    outcome: Outcome, snap: Dict[str, Any], store_ref: Optional[str], environ: Mapping[str, str]
) -> bool:
    """The deferred check: spool the snapshot, compare with the cached baseline (``--on-drift
    fail``: with the baseline read afresh, one indexed query), and leave the storing to the
    writer (:mod:`.writer`). False when the snapshot cannot be spooled: the caller then stores it
    now, as ever (a snapshot is never given up for speed)."""
    config = outcome.config
    outcome.stage = "spooling the snapshot"
    try:
        path = spool_data(snap, environ, config.spool_dir)
    except Exception as e:  # SpoolUnavailable, or a bug: the store takes it now instead
        with outcome.lock:
            outcome.deferred = False
        outcome.problem(f"not deferred: {_describe(e)}; storing before start-up instead")
        return False
    with outcome.lock:
        outcome.spool_path, outcome.stored = path, "spool"
    try:
        lost = dropped_at(path)
    except Exception:
        lost = []
    for entry in lost:
        outcome.problem(entry.describe())
    import os

    job: Dict[str, Any] = {"spool_dir": os.path.dirname(path), "db_url": config.db_url}
    baseline: Optional[Dict[str, Any]] = None
    if config.baseline and not store_ref:
        outcome.stage = "reading the baseline file"
        try:
            from ..refs import load_file

            baseline = load_file(config.baseline).model_dump(mode="json")
            outcome.baseline_source = "file"
        except EnvparityError as e:
            outcome.problem(f"baseline: {e}")
    elif store_ref:
        job["baseline"] = store_ref
        if config.on_drift == "fail":
            baseline = _fresh_baseline(outcome, store_ref, environ)
        else:
            baseline = _recall(outcome, store_ref, environ)
            if baseline is not None:
                outcome.baseline_source = "cache"
            else:
                outcome.problem(
                    f"baseline {store_ref!r} is not cached yet: compared after start-up, once "
                    "the writer has read it from the store"
                )
                job["compare"] = snap["snapshot_id"]
    outcome.job = job
    if baseline is not None:
        outcome.stage = "comparing with the baseline"
        outcome.report = _compare(outcome, baseline, snap)
    return True


def _fresh_baseline(
    outcome: Outcome, ref: str, environ: Mapping[str, str]
) -> Optional[Dict[str, Any]]:
    """``--on-drift fail``'s baseline, read from the store before exec (the lean paths: one
    indexed query); the cached copy when the store cannot say, as without deferral."""
    config = outcome.config
    half = max(0.05, config.budget_s / 2)
    limit = min(_db_limit(outcome), half * 0.85)

    def read() -> Optional[Dict[str, Any]]:
        outcome.stage = "resolving the baseline"
        _preflight(config.db_url, limit)
        found = _resolve_data(ref, config.db_url, limit)
        if found is not None:
            return found
        from ..store import open_store

        # A prefix, `latest:...`, an unknown ref: the full store resolves or explains.
        with open_store(config.db_url, migrate=False, timeout_s=limit) as store:
            resolved: Dict[str, Any] = store.resolve(ref).model_dump(mode="json")
            return resolved

    try:
        baseline = _within(outcome, half, read, lambda: None)
    except BadInput as e:
        outcome.problem(f"baseline {ref!r}: {e}")
        return None
    except Exception as e:
        why = str(e) if isinstance(e, StoreError) else f"store {outcome.db}: {_describe(e)}"
        outcome.problem(f"baseline not resolved: {why}")
        baseline = _recall(outcome, ref, environ)
        if baseline is None:
            outcome.problem(
                f"baseline {ref!r} is not in the local cache either "
                "(it is cached by the first start that reaches the store)"
            )
        else:
            outcome.baseline_source = "cache"
        return baseline
    if baseline is not None:
        outcome.baseline_source = "store"
        cache.remember(ref, config.db_url, baseline, environ)
    return baseline
