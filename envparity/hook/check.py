"""The start-up check itself: snapshot, store (or spool), compare with the baseline, in a budget.

The work runs in a daemon thread that the caller joins with the time budget, because a database
that does not answer, a slow disk or a probe that hangs must not hold the server back: past the
budget the caller goes on, spooling the snapshot first when one was captured but not stored.
Every failure of envparity is caught here and kept as one line in ``Outcome.problems``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from ..errors import BadInput, EnvparityError, StoreError
from ..redact import redact_url, redact_value
from . import cache
from .config import HookConfig
from .spool import SpoolUnavailable, spool

if TYPE_CHECKING:
    from ..model import DriftReport, Snapshot

# The store's own connect timeout is at most this, and at least the floor: a connect that is cut
# shorter than the floor fails even on a healthy network, and the budget bounds the wait anyway.
_CONNECT_TIMEOUT_MAX_S = 5.0
_CONNECT_TIMEOUT_MIN_S = 1.0


@dataclass
class Outcome:
    """What the check did. The worker thread fills it in; read it through :meth:`record`."""

    config: HookConfig
    started: float = field(default_factory=time.monotonic)
    snapshot: Optional[Snapshot] = None
    report: Optional[DriftReport] = None
    stored: str = "none"  # "store" | "spool" | "none"
    spool_path: Optional[str] = None
    baseline_source: Optional[str] = None  # "file" | "store" | "cache"
    problems: List[str] = field(default_factory=list)
    stage: str = "starting"
    timed_out: bool = False
    elapsed_ms: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def problem(self, message: str) -> None:
        """Record one failure of envparity itself (secrets in it redacted)."""
        with self.lock:
            self.problems.append(redact_value(message))

    @property
    def db(self) -> str:
        """The database, as it may be shown."""
        from ..store.url import default_sqlite_path  # stdlib only: no SQLAlchemy for a name

        if self.config.db_url:
            return redact_url(self.config.db_url)
        try:
            return "sqlite:///" + default_sqlite_path()
        except EnvparityError:
            return "the default SQLite store (no home directory)"

    def refusal(self) -> Optional[str]:
        """Why start-up must be refused (``--on-drift fail`` only), or None to start."""
        if self.config.on_drift != "fail":
            return None
        if self.report is not None:
            if not self.report.failed:
                return None
            return f"drift {self.report.verdict} is at or above fail-on {self.report.fail_on}"
        if self.config.baseline:
            # A gate that cannot look must not wave through: refuse (the problems say why).
            return f"cannot compare with baseline {self.config.baseline!r}"
        return None

    def record(self, action: str) -> Dict[str, Any]:
        """The JSON log record: sorted keys, stable, no secrets."""
        with self.lock:
            snap, report = self.snapshot, self.report
            return {
                "event": "envparity.startup",
                "action": action,
                "role": self.config.role,
                "labels": dict(self.config.labels),
                "snapshot_id": snap.snapshot_id if snap else None,
                "fingerprint": snap.fingerprint if snap else None,
                "probe_errors": len(snap.collection.errors) if snap else None,
                "baseline": self.config.baseline,
                "baseline_source": self.baseline_source,
                "verdict": report.verdict if report else None,
                "counts": dict(report.counts) if report else None,
                "fail_on": report.fail_on if report else self.config.fail_on,
                "failed": report.failed if report else None,
                "on_drift": self.config.on_drift,
                "stored": self.stored,
                "spool_path": self.spool_path,
                "db": self.db,
                "budget_s": self.config.budget_s,
                "timed_out": self.timed_out,
                "elapsed_ms": round(self.elapsed_ms, 1),
                "problems": list(self.problems),
                "refusal": self.refusal(),
            }

    def summary(self, action: str) -> str:
        """One line a person reads in the container log."""
        with self.lock:
            snap, report, problems = self.snapshot, self.report, list(self.problems)
        parts = []
        if snap is None:
            parts.append("no snapshot taken")
        else:
            parts.append(f"{self.config.role or 'snapshot'} {snap.fingerprint[:12]}")
        if report is not None:
            from ..wording import severity_counts

            counts = severity_counts(report.counts)
            drift = "no drift" if report.verdict == "none" else f"{report.verdict} drift ({counts})"
            source = " (cached)" if self.baseline_source == "cache" else ""
            parts.append(f"vs baseline {self.config.baseline}{source}: {drift}")
        elif not self.config.baseline:
            parts.append("no baseline set (--baseline / ENVPARITY_BASELINE): not compared")
        else:
            parts.append(f"not compared with baseline {self.config.baseline}")
        if self.stored == "store":
            parts.append("stored")
        elif self.stored == "spool":
            parts.append(f"spooled to {self.spool_path} (run `envparity db flush`)")
        elif snap is not None:
            parts.append("not stored")
        parts.extend(problems)
        parts.append(f"{self.elapsed_ms:.0f} ms")
        refusal = self.refusal()
        return f"envparity: {'; '.join(parts)}; {action}" + (f": {refusal}" if refusal else "")

    def emit(self, action: str, stream: Any) -> None:
        """Write the summary and the JSON record to ``stream``; a closed stream is not an error."""
        try:
            stream.write(self.summary(action) + "\n")
            stream.write(json.dumps(self.record(action), sort_keys=True) + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def _connect_timeout(outcome: Outcome) -> float:
    left = outcome.config.budget_s - (time.monotonic() - outcome.started)
    return min(_CONNECT_TIMEOUT_MAX_S, max(_CONNECT_TIMEOUT_MIN_S, left))


def spool_unsaved(outcome: Outcome, environ: Mapping[str, str]) -> None:
    """Spool the snapshot when one was captured and is not stored yet."""
    with outcome.lock:
        snap = outcome.snapshot
        if snap is None or outcome.stored != "none":
            return
        try:
            outcome.spool_path = spool(snap, environ, outcome.config.spool_dir)
            outcome.stored = "spool"
        except SpoolUnavailable as e:
            outcome.problems.append(f"snapshot {snap.snapshot_id[:12]} not kept: {e}")


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


def _store_and_resolve(outcome: Outcome, snap: Snapshot, ref: Optional[str]) -> Optional[Snapshot]:
    """Save ``snap`` and resolve ``ref`` (when it is not a file) in the store; may raise."""
    from ..store import fast

    config = outcome.config
    outcome.stage = "storing the snapshot"
    # An existing SQLite store at this schema takes the snapshot through stdlib sqlite3: without
    # a store ref to resolve, the start-up path then never imports SQLAlchemy (~0.13 s).
    if fast.save(snap, config.db_url) is not None:
        _mark_stored(outcome)
        if not ref:
            return None
        outcome.stage = "resolving the baseline"
        found = fast.resolve(ref, config.db_url)  # a tag or full id, still without SQLAlchemy
        if found is not None:
            return found
    outcome.stage = "opening the store"
    _preflight(config.db_url, _connect_timeout(outcome))
    from ..store import open_store

    with open_store(
        config.db_url, migrate=False, connect_timeout_s=_connect_timeout(outcome)
    ) as store:
        if outcome.stored != "store":
            outcome.stage = "storing the snapshot"
            store.save(snap)
            _mark_stored(outcome)
        if not ref:
            return None
        outcome.stage = "resolving the baseline"
        baseline: Snapshot = store.resolve(ref)
        return baseline


def _work(outcome: Outcome, environ: Mapping[str, str]) -> None:
    from ..collect.capture import capture
    from ..collect.interface import Context
    from ..refs import is_file_ref, load_file

    config = outcome.config
    outcome.stage = "capturing the snapshot"
    # No subprocess on the start-up path (git would cost a fork and exec per start).
    snap = capture(role=config.role, labels=config.labels, ctx=Context(subprocess=False))
    with outcome.lock:
        outcome.snapshot = snap
    ref = config.baseline
    baseline: Optional[Snapshot] = None
    store_ref = ref if ref and not is_file_ref(ref) else None
    if ref and not store_ref:
        outcome.stage = "reading the baseline file"
        try:
            baseline = load_file(ref)
            outcome.baseline_source = "file"
        except EnvparityError as e:
            outcome.problem(f"baseline: {e}")
    try:
        baseline = _store_and_resolve(outcome, snap, store_ref) or baseline
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
        if store_ref and outcome.baseline_source is None:
            baseline = cache.recall(store_ref, config.db_url, environ)
            if baseline is None:
                outcome.problem(
                    f"baseline {store_ref!r} is not in the local cache either "
                    "(it is cached by the first start that reaches the store)"
                )
            else:
                outcome.baseline_source = "cache"
    if baseline is None:
        return
    outcome.stage = "comparing with the baseline"
    outcome.report = _compare(outcome, baseline, snap)


def _compare(outcome: Outcome, baseline: Snapshot, snap: Snapshot) -> DriftReport:
    from ..diff import diff
    from ..policy import Policy, load_policy

    config = outcome.config
    try:
        policy = load_policy(config.policy)
    except EnvparityError as e:
        outcome.problem(f"policy: {e} (using the default policy)")
        policy = Policy.model_validate({})
    if config.fail_on:
        policy = policy.model_copy(update={"fail_on": config.fail_on})
    return diff(
        baseline, snap, policy, baseline_ref=config.baseline or "", candidate_ref=snap.snapshot_id
    )


def work(outcome: Outcome, environ: Mapping[str, str]) -> None:
    """Do the whole check into ``outcome``; never raises (a bug in envparity is a problem line)."""
    try:
        _work(outcome, environ)
        outcome.stage = "done"
    except BaseException as e:
        outcome.problem(f"internal error while {outcome.stage}: {_describe(e)}")
    finally:
        outcome.elapsed_ms = (time.monotonic() - outcome.started) * 1000


def check(
    config: HookConfig, environ: Mapping[str, str], problems: Optional[List[str]] = None
) -> Outcome:
    """Run the check in a daemon thread for at most ``config.budget_s`` seconds.

    Past the budget the thread is left behind (an ``exec`` ends it; in-process it finishes on its
    own) and a captured but unstored snapshot is spooled first.
    """
    outcome = Outcome(config)
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
    if thread.is_alive():
        outcome.timed_out = True
        outcome.problem(
            f"the check did not finish within its {config.budget_s:g} s budget "
            f"(still {outcome.stage}; raise --budget / ENVPARITY_BUDGET_S)"
        )
        spool_unsaved(outcome, environ)
        outcome.elapsed_ms = (time.monotonic() - outcome.started) * 1000
    return outcome
