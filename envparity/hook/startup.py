"""The two ways a server runs the check: ``startup_check()`` in-process, ``run()`` before exec."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, NoReturn, Optional, Sequence, Union

from ..errors import CommandNotStarted, DriftRefused
from .check import Outcome, check, work
from .config import LabelsArg, load_config
from .writer import deferred, spawn

if TYPE_CHECKING:
    from ..model import DriftReport

# Exit codes of a command that could not be started, as a shell reports them.
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


def _options(**options: Any) -> Dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


def startup_check(
    baseline: Optional[str] = None,
    on_drift: Optional[str] = None,
    background: bool = False,
    *,
    role: Optional[str] = None,
    labels: LabelsArg = None,
    db_url: Optional[str] = None,
    spool_dir: Optional[str] = None,
    budget_s: Union[None, float, str] = None,
    fail_on: Optional[str] = None,
    policy: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    stream: Any = None,
) -> Optional[DriftReport]:
    """Check this process's environment against ``baseline`` from inside the server.

    Snapshots, stores (or spools), compares and logs one summary line and one JSON line to
    ``stream`` (stderr). Every option falls back to its ENVPARITY_* variable; ``on_drift``
    defaults to ``"warn"`` and the budget to 2 s.

    Returns the drift report, or None when there was nothing to compare (no baseline, envparity
    could not finish within the budget, or ``background=True``). The check works on plain data;
    the returned :class:`~envparity.model.DriftReport` is built after it, from its report. With
    ``on_drift="warn"`` it never raises. With ``on_drift="fail"`` it raises
    :class:`~envparity.errors.DriftRefused` when the drift reaches fail-on or the comparison could
    not be made. With ``background=True`` it returns at once, does the work in a daemon thread and
    never raises into the caller (it can only log).
    """
    env = os.environ if environ is None else environ
    out = sys.stderr if stream is None else stream
    given = _options(
        baseline=baseline,
        on_drift=on_drift,
        role=role,
        labels=labels,
        db_url=db_url,
        spool_dir=spool_dir,
        budget_s=budget_s,
        fail_on=fail_on,
        policy=policy,
    )
    if background:
        threading.Thread(
            target=_in_background,
            args=(given, env, out),
            name="envparity-startup-check",
            daemon=True,
        ).start()
        return None
    config, problems = load_config(env, **given)
    outcome = check(config, env, problems)
    refusal = outcome.refusal()
    outcome.emit("refusing start-up" if refusal else "continuing", out)
    if refusal:
        raise DriftRefused("; ".join([refusal, *outcome.problems]))
    return _drift_report(outcome.report)


def _drift_report(report: Optional[Mapping[str, Any]]) -> Optional[DriftReport]:
    """The check's plain report as the public ``DriftReport``, built only once the check is done
    and logged (the check itself imports no pydantic)."""
    if report is None:
        return None
    from ..model import DriftReport

    return DriftReport.model_validate(report)


def _in_background(given: Dict[str, Any], environ: Mapping[str, str], stream: Any) -> None:
    try:
        config, problems = load_config(environ, **given)
        outcome = Outcome(config)
        for problem in problems:
            outcome.problem(problem)
        # Nothing waits for a background check, so the budget bounds only its connect timeout.
        work(outcome, environ)
        refusal = outcome.refusal()
        if refusal:
            outcome.problem(f"{refusal}; a background check cannot refuse start-up")
        outcome.emit("checked in the background", stream)
    except BaseException:
        pass  # nothing may escape into the server's threads, not even a failed log write


def run(
    command: Sequence[str], environ: Optional[Mapping[str, str]] = None, **options: Any
) -> NoReturn:
    """Check, log, then replace this process with ``command`` (``os.execvp``: same PID).

    Options are :func:`startup_check`'s. Raises :class:`~envparity.errors.DriftRefused` when
    ``on_drift`` is ``"fail"`` and start-up is refused (the log lines say why), and
    :class:`CommandNotStarted` when ``command`` cannot be executed. Otherwise does not return.
    """
    argv = list(command)
    if not argv:
        raise CommandNotStarted(
            "no command to start: give it after --, e.g. envparity run -- gunicorn app:app",
            exit_code=2,
        )
    env = os.environ if environ is None else environ
    config, problems = load_config(env, **_options(**options))
    outcome = check(config, env, problems, defer=deferred(env))
    _write_metrics(outcome, env)
    refusal = outcome.refusal()
    _start_writer(outcome, env, refusal)
    name = os.path.basename(argv[0])
    outcome.emit(f"refusing to start {name}" if refusal else f"starting {name}", sys.stderr)
    if refusal:
        raise DriftRefused("; ".join([f"refusing to start {name}: {refusal}", *outcome.problems]))
    exec_command(argv)


def _start_writer(outcome: Outcome, environ: Mapping[str, str], refusal: Optional[str]) -> None:
    """Deferred: start the detached writer that stores the spooled snapshot (whether or not the
    server is started: a refused start's snapshot is stored too)."""
    if not outcome.deferred or outcome.stored != "spool" or not outcome.spool_path:
        return
    with outcome.lock:
        job = outcome.job or {  # past the budget before the job was made: store it anyway
            "spool_dir": os.path.dirname(outcome.spool_path),
            "db_url": outcome.config.db_url,
        }
        outcome.job = job
    why = spawn(job, environ)
    if why:
        outcome.problem(f"{why}; the snapshot stays spooled for the next start or `db flush`")


def _write_metrics(outcome: Any, environ: Mapping[str, str]) -> None:
    """ENVPARITY_METRICS_FILE: this container's OpenMetrics for a node's textfile collector."""
    path = environ.get("ENVPARITY_METRICS_FILE")
    if not path or outcome.snapshot is None:
        return
    from ..report.openmetrics import write_container_metrics

    # Asked for: the metrics pay for the snapshot and report models (the check itself does not).
    report = _drift_report(outcome.report)
    why = write_container_metrics(path, outcome.snapshot, report, outcome.config.baseline)
    if why:
        outcome.problem(why)


def exec_command(argv: List[str]) -> NoReturn:
    """Replace this process with ``argv``: same PID, same stdin/stdout/stderr and environment."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    import signal

    # Python ignores SIGPIPE and SIGXFSZ; ignored signals survive exec, and a server (or a shell
    # pipeline) must get the default behaviour back, as subprocess's restore_signals does.
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        code = EXIT_NOT_FOUND if isinstance(e, FileNotFoundError) else EXIT_NOT_EXECUTABLE
        raise CommandNotStarted(
            f"cannot start {argv[0]!r}: {e.strerror or e}; check the command after --",
            exit_code=code,
        ) from None
