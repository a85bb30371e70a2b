"""What one start-up check found and did (:class:`Outcome`), and how it is logged: the summary
line and the JSON record. Shared by the check, its database steps and the deferred writer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from ..errors import EnvparityError
from ..redact import redact_url, redact_value
from . import cache
from .config import HookConfig

if TYPE_CHECKING:
    from .._shapes_report import DriftReport
    from ..model import Snapshot


@dataclass
class Outcome:
    """What the check did. The worker thread fills it in; read it through :meth:`record`."""

    config: HookConfig
    started: float = field(default_factory=time.monotonic)
    data: Optional[Dict[str, Any]] = None  # the snapshot captured, as plain JSON data
    # The drift report as plain data (the JSON shape of DriftReport; no pydantic on this path).
    report: Optional[DriftReport] = None
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
    # Set by the caller when the budget ran out: from then on the check's thread publishes no
    # snapshot, so what the log names is exactly what was spooled (or nothing).
    closed: bool = False
    elapsed_ms: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def publish(self, data: Dict[str, Any]) -> bool:
        """Make ``data`` the captured snapshot, unless the budget has closed the check (then the
        snapshot is dropped: False). Past the budget the caller spools what was published and
        logs it; a snapshot published after that would be named in the log and lost at exec."""
        with self.lock:
            if self.closed:
                return False
            self.data = data
            return True

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
    report: DriftReport, baseline: Optional[str], snap: Optional[Dict[str, Any]]
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


def _valid_labels(labels: Dict[str, str]) -> Dict[str, str]:
    from ..labels import valid_labels

    return valid_labels(labels)


def _compare(outcome: Outcome, baseline: Dict[str, Any], snap: Dict[str, Any]) -> DriftReport:
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


def _recall(outcome: Outcome, ref: str, environ: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    """The baseline cached for ``ref`` (JSON data), or None; a cached copy that is not a
    snapshot's JSON shape is passed over, as if missing, and logged as a problem."""
    problems: List[str] = []
    try:
        return cache.recall_data(ref, outcome.config.db_url, environ, problems)
    finally:
        for problem in problems:
            outcome.problem(problem)
