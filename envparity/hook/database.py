"""The start-up check's database steps, each within what is left of the budget: store the
snapshot (or spool it), resolve the baseline, and say why not in one line.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional

from ..errors import EnvparityError, StoreError, StoreTimeout
from ..redact import redact_value
from .outcome import Outcome
from .spool import SpoolUnavailable, dropped_at, spool_data


def _db_limit(outcome: Outcome) -> float:
    """Seconds the database may take in this check: at most half the budget, so that a hung
    server leaves the other half to resolve the baseline from the cache and compare."""
    from ..store.url import db_timeout

    try:
        configured = db_timeout()
    except EnvparityError as e:
        outcome.problem(f"{e}; using half the budget")
        configured = outcome.config.budget_s
    return max(0.05, min(configured, outcome.config.budget_s / 2))


def spool_unsaved(outcome: Outcome, environ: Mapping[str, str]) -> None:
    """Spool the snapshot when one was captured and is not stored yet."""
    with outcome.lock:
        snap = outcome.data
        if snap is None or outcome.stored != "none":
            return
        sid = str(snap.get("snapshot_id", ""))
        try:
            outcome.spool_path = spool_data(snap, environ, outcome.config.spool_dir)
            outcome.stored = "spool"
        except SpoolUnavailable as e:
            outcome.problems.append(f"snapshot {sid[:12]} not kept: {e}")
            return
        except Exception as e:  # never let a spool bug hide the snapshot's fate
            outcome.problems.append(
                f"snapshot {sid[:12]} not kept: {type(e).__name__}: {e}"
            )
            return
        try:
            lost = dropped_at(outcome.spool_path)
        except Exception:
            lost = []
        outcome.problems.extend(redact_value(entry.describe()) for entry in lost)


def _mark_stored(outcome: Outcome) -> None:
    import os

    with outcome.lock:
        if outcome.stored == "spool" and outcome.spool_path:
            # Spooled when the budget ran out, stored since: the spool copy is redundant.
            try:
                os.unlink(outcome.spool_path)
                outcome.spool_path = None
            except OSError:
                pass
        outcome.stored = "store"


def _describe(e: BaseException) -> str:
    return str(e) if isinstance(e, EnvparityError) else f"{type(e).__name__}: {e}"


def _preflight(url: Optional[str], timeout_s: float) -> None:
    """Raise StoreError at once when a PostgreSQL server's port refuses connections.

    Importing SQLAlchemy and the driver costs ~0.2 s, which a container that restarts while the
    database is down would pay only to learn what one TCP connect says. Anything this cannot
    judge (a Unix socket, several hosts, a URL it does not parse) is left to the store.
    """
    import socket
    from urllib.parse import urlsplit

    from ..store.url import normalize, shown

    if not url:
        return
    try:
        parts = urlsplit(normalize(url))
        host, port = parts.hostname, parts.port or 5432
    except ValueError:
        return
    if not parts.scheme.startswith("postgresql") or not host or "host=" in parts.query:
        return
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as e:
        raise StoreError(
            f"store {shown(url)}: cannot connect to {host}:{port} ({e.strerror or e})"
        ) from None


def _store_and_resolve(
    outcome: Outcome,
    snap: Dict[str, Any],
    ref: Optional[str],
    environ: Mapping[str, str],
    limit: float,
) -> Optional[Dict[str, Any]]:
    """Save ``snap`` and resolve ``ref`` (when it is not a file) in the store; may raise.

    A store that cannot take the snapshot (read-only, full, locked) may still be read: the
    snapshot is spooled and the baseline is still resolved from it.
    """
    import os

    from ..collect.capture import to_snapshot
    from ..store import fast
    from ..store.url import resolve_url, sqlite_path

    config = outcome.config
    # A PostgreSQL port that refuses connections is known from one TCP connect, before any
    # driver is imported (a container restarting while the database is down pays nothing more).
    outcome.stage = "opening the store"
    _preflight(config.db_url, limit)
    if ref:
        # A read first: a writer holding the SQLite lock does not block it (WAL), so a locked
        # store still gives the baseline even when the save below waits out its time.
        outcome.stage = "resolving the baseline"
        found = _resolve_data(ref, config.db_url, limit)  # without SQLAlchemy or pydantic
        if found is not None:
            with outcome.lock:
                outcome.found_baseline = found
    outcome.stage = "storing the snapshot"
    not_saved: Optional[StoreError] = None
    # An existing SQLite store at this schema takes the snapshot through stdlib sqlite3: without
    # a store ref to resolve, the start-up path then never imports SQLAlchemy (~0.13 s).
    try:
        if fast.save_anywhere(snap, config.db_url, timeout_s=limit) is not None:
            _mark_stored(outcome)
    except StoreError as e:
        not_saved = e
        outcome.problem(f"snapshot not stored: {e}")
        spool_unsaved(outcome, environ)
    if not ref:
        if outcome.stored == "store" or not_saved is not None:
            return None
    elif outcome.found_baseline is not None and (
        outcome.stored == "store" or not_saved is not None
    ):
        return outcome.found_baseline
    outcome.stage = "opening the store"
    path = sqlite_path(resolve_url(config.db_url))
    if path is not None and not os.path.isdir(_parent(path)):
        # Said at once, without importing SQLAlchemy to find out (a volume not mounted).
        raise StoreError(
            f"store {outcome.db}: directory {_parent(path)} does not exist; create it first"
        )
    from ..store import open_store

    # A SQLite store that does not exist yet is created and migrated, as `envparity snapshot`
    # does, so the embedded default works on a first start; PostgreSQL only by `db upgrade`.
    sqlite = sqlite_path(resolve_url(config.db_url)) is not None
    with open_store(config.db_url, migrate=sqlite, timeout_s=limit) as store:
        if outcome.stored != "store" and not_saved is None:
            outcome.stage = "storing the snapshot"
            store.save(to_snapshot(snap))
            _mark_stored(outcome)
        if not ref:
            return None
        if outcome.found_baseline is not None:
            return outcome.found_baseline
        outcome.stage = "resolving the baseline"
        baseline: Dict[str, Any] = store.resolve(ref).model_dump(mode="json")
        return baseline


def _resolve_data(ref: str, url: Optional[str], limit: float) -> Optional[Dict[str, Any]]:
    """The baseline a tag or id names in an existing SQLite store, as snapshot JSON data; None
    also when the rows are not a snapshot's JSON shape (the full store, with the pydantic model,
    then reads them and says what is wrong)."""
    from ..shapecheck import check
    from ..store import fast
    from ..store.rows import merge

    found = fast.resolve_anywhere(ref, url, timeout_s=limit)
    if found is None:
        return None
    identity, instance, columns = found
    data: Dict[str, Any] = merge(identity, instance)
    data.update(columns)
    data["captured_at"] = data["captured_at"].isoformat().replace("+00:00", "Z")
    return data if check(data, "Snapshot") is None else None


def _left(outcome: Outcome) -> float:
    return outcome.config.budget_s - (time.monotonic() - outcome.started)


def _creating(db_url: Optional[str]) -> bool:
    """True when the store is a SQLite file that does not exist yet."""
    import os

    from ..store.url import resolve_url, sqlite_path

    try:
        path = sqlite_path(resolve_url(db_url))
    except EnvparityError:
        return False
    return path is not None and not os.path.exists(path) and os.path.isdir(_parent(path))


def _parent(path: str) -> str:
    import os

    return os.path.dirname(os.path.abspath(path))


def _within(
    outcome: Outcome, limit: float, fn: Callable[[], Any], meanwhile: Callable[[], None]
) -> Any:
    """``fn()`` in a daemon thread, given at most ``limit`` seconds; ``meanwhile()`` runs in this
    thread while it waits (a comparison with a baseline file needs no store).

    A database that never answers (a SIGSTOPped server) would otherwise hold the check past its
    budget; past the limit it is abandoned (it may still store the snapshot later, which then
    replaces the spooled copy).
    """
    box: Dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:
            box["error"] = e

    started = time.monotonic()
    thread = threading.Thread(target=target, name="envparity-store", daemon=True)
    try:
        thread.start()
    except RuntimeError:
        meanwhile()
        return fn()
    meanwhile()
    thread.join(max(0.0, limit - (time.monotonic() - started)))
    if thread.is_alive():
        raise StoreTimeout(
            f"store {outcome.db}: not done within {limit:.3g} s (half the hook's budget) "
            f"while {outcome.stage}"
        )
    if "error" in box:
        raise box["error"]
    return box.get("value")
