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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional

from ..errors import BadInput, EnvparityError, StoreError, StoreTimeout
from ..redact import redact_url, redact_value
from . import cache
from .config import HookConfig
from .spool import SpoolUnavailable, dropped, spool_data

if TYPE_CHECKING:
    from ..model import Snapshot


@dataclass
class Outcome:
    """What the check did. The worker thread fills it in; read it through :meth:`record`."""

    config: HookConfig
    started: float = field(default_factory=time.monotonic)
    data: Optional[Dict[str, Any]] = None  # the snapshot captured, as plain JSON data
    # The drift report as plain data (the JSON shape of DriftReport; no pydantic on this path).
    report: Optional[Dict[str, Any]] = None
    stored: str = "none"  # "store" | "spool" | "none"
    spool_path: Optional[str] = None
    # Deferred (``envparity run``'s default): spooled now, stored by the detached writer after
    # the server starts; ``job`` is what that writer is given (see envparity.hook.writer).
    deferred: bool = False
    job: Optional[Dict[str, Any]] = None
    baseline_source: Optional[str] = None  # "file" | "store" | "cache"
    found_baseline: Optional[Dict[str, Any]] = None  # from the store, before any later failure
    problems: List[str] = field(default_factory=list)
    stage: str = "starting"
    timed_out: bool = False
    elapsed_ms: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def snapshot(self) -> Optional[Snapshot]:
        """The snapshot captured, as the pydantic model (built on demand: the check itself never
        needs it)."""
        from ..collect.capture import to_snapshot

        with self.lock:
            data = self.data
        return to_snapshot(data) if data is not None else None

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
        report = self.report
        if report is not None:
            if not report["failed"]:
                return None
            return f"drift {report['verdict']} is at or above fail-on {report['fail_on']}"
        if self.config.baseline:
            # A gate that cannot look must not wave through: refuse (the problems say why).
            return f"cannot compare with baseline {self.config.baseline!r}"
        return None

    def record(self, action: str) -> Dict[str, Any]:
        """The JSON log record: sorted keys, stable, no secrets."""
        with self.lock:
            snap, report = self.data, self.report
            return {
                "event": "envparity.startup",
                "action": action,
                "role": self.config.role,
                "labels": _valid_labels(self.config.labels),
                "snapshot_id": snap["snapshot_id"] if snap else None,
                "fingerprint": snap["fingerprint"] if snap else None,
                "probe_errors": len(snap["collection"]["errors"]) if snap else None,
                "baseline": self.config.baseline,
                "baseline_source": self.baseline_source,
                "verdict": report["verdict"] if report else None,
                "counts": dict(report["counts"]) if report else None,
                "not_compared": list(report.get("not_compared") or []) if report else None,
                "fail_on": report["fail_on"] if report else self.config.fail_on,
                "failed": report["failed"] if report else None,
                "on_drift": self.config.on_drift,
                "stored": self.stored,
                "spool_path": self.spool_path,
                "db": self.db,
                "deferred": self.deferred,
                "budget_s": self.config.budget_s,
                "timed_out": self.timed_out,
                "elapsed_ms": round(self.elapsed_ms, 1),
                "problems": list(self.problems),
                "refusal": self.refusal(),
            }

    def summary(self, action: str) -> str:
        """One line a person reads in the container log (values from data are neutralized).

        The snapshot is named by a ref ``show`` and ``diff`` accept: its id prefix, and its
        environment as ``fp:PREFIX`` (the latest snapshot with that fingerprint).
        """
        from ..report.escape import terminal

        with self.lock:
            snap, report, problems = self.data, self.report, list(self.problems)
        parts = []
        if snap is None:
            parts.append("no snapshot taken")
        else:
            parts.append(
                f"{self.config.role or 'snapshot'} {snap['snapshot_id'][:12]} "
                f"(fp:{snap['fingerprint'][:12]})"
            )
        if report is not None:
            from .compare import verdict_words

            drift = verdict_words(report)
            source = " (cached)" if self.baseline_source == "cache" else ""
            parts.append(f"vs baseline {self.config.baseline}{source}: {drift}")
            if report["verdict"] != "none":
                parts.append(_top_findings(report, self.config.baseline, snap))
        elif not self.config.baseline:
            parts.append("no baseline set (--baseline / ENVPARITY_BASELINE): not compared")
        else:
            parts.append(f"not compared with baseline {self.config.baseline}")
        if self.stored == "store":
            parts.append("stored")
        elif self.stored == "spool" and self.job is not None:
            parts.append(f"spooled to {self.spool_path}, stored after start-up")
        elif self.stored == "spool":
            parts.append(f"spooled to {self.spool_path} (run `envparity db flush`)")
        elif snap is not None:
            parts.append("not stored")
        parts.extend(problems)
        parts.append(f"{self.elapsed_ms:.0f} ms")
        refusal = self.refusal()
        line = f"envparity: {'; '.join(parts)}; {action}" + (f": {refusal}" if refusal else "")
        return terminal(line)

    def emit(self, action: str, stream: Any) -> None:
        """Write the summary and the JSON record to ``stream``; a closed stream is not an error."""
        try:
            stream.write(self.summary(action) + "\n")
            stream.write(json.dumps(self.record(action), sort_keys=True) + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass


TOP_FINDINGS = 3  #: findings the summary line names; the diff command it gives shows them all


def _top_findings(
    report: Dict[str, Any], baseline: Optional[str], snap: Optional[Dict[str, Any]]
) -> str:
    """``top: error package:numpy 1.26.4 -> 2.0.0, ...; all: envparity diff REF ID``: the worst
    findings (the report is sorted worst first) and the command that shows every one."""
    from ..report.escape import show

    shown = []
    for f in report.get("findings", [])[:TOP_FINDINGS]:
        if f.get("change") == "incomplete":
            values = "incomplete comparison"
        else:
            values = f"{show(f.get('baseline'))} -> {show(f.get('candidate'))}"
        shown.append(f"{f.get('severity')} {f.get('category')}:{f.get('key')} {values}")
    more = len(report.get("findings", [])) - len(shown)
    top = ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")
    command = "envparity diff " + _shell_word(baseline or "BASELINE")
    command += " " + (snap["snapshot_id"][:12] if snap else "SNAPSHOT")
    return f"top: {top}; all: {command}"


def _shell_word(word: str) -> str:
    # shlex.quote without importing shlex on the start-up path: only safe characters go bare.
    if word and all(c.isalnum() or c in "@%+=:,./-_" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


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
            lost = dropped(environ, outcome.config.spool_dir)
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
    """The baseline a tag or id names in an existing SQLite store, as snapshot JSON data."""
    from ..store import fast
    from ..store.rows import merge

    found = fast.resolve_anywhere(ref, url, timeout_s=limit)
    if found is None:
        return None
    identity, instance, columns = found
    data: Dict[str, Any] = merge(identity, instance)
    data.update(columns)
    data["captured_at"] = data["captured_at"].isoformat().replace("+00:00", "Z")
    return data


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


def _valid_labels(labels: Dict[str, str]) -> Dict[str, str]:
    from ..labels import valid_labels

    return valid_labels(labels)


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
    with outcome.lock:
        outcome.data = snap
    probed = _with_probes(outcome, snap, environ)
    if probed is not snap:
        # Set only once the probes are done: past the budget, the plain snapshot is spooled.
        snap = probed
        with outcome.lock:
            outcome.data = snap
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
            baseline = cache.recall_data(store_ref, config.db_url, environ)
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
        lost = dropped(environ, config.spool_dir)
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
            baseline = cache.recall_data(store_ref, config.db_url, environ)
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
        baseline = cache.recall_data(ref, config.db_url, environ)
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


def _compare(
    outcome: Outcome, baseline: Dict[str, Any], snap: Dict[str, Any]
) -> Dict[str, Any]:
    from .compare import compare

    problems: List[str] = []
    try:
        return compare(
            baseline,
            snap,
            policy_path=outcome.config.policy,
            fail_on=outcome.config.fail_on,
            baseline_ref=outcome.config.baseline or "",
            problems=problems,
        )
    finally:
        for problem in problems:
            outcome.problem(problem)


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
    if thread.is_alive():
        outcome.timed_out = True
        outcome.problem(
            f"the check did not finish within its {config.budget_s:g} s budget "
            f"(still {outcome.stage}; raise --budget / ENVPARITY_BUDGET_S)"
        )
        spool_unsaved(outcome, environ)
        outcome.elapsed_ms = (time.monotonic() - outcome.started) * 1000
    return outcome
