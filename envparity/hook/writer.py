"""The deferred writer: stores what the start-up hook spooled, after the server has started.

``envparity run`` in its default (deferred) mode never talks to the database before it execs the
server: it spools the snapshot (one durable local file), compares with the cached baseline, and
starts this writer detached (:func:`spawn`) just before ``exec``. The writer drains the whole spool
directory into the store through the lean write paths (stdlib sqlite3, psycopg; no SQLAlchemy or
pydantic for a store at this schema), refreshes the baseline cache, and when the hook had no
cached baseline to compare with, compares afresh and logs the result.

Never-lose rules: the spool file is written (fsync'ed) before the writer starts, and a file is
deleted only after the store has its snapshot, so a writer that dies, a database that is down or
a container that stops leaves the snapshot spooled for the next start's writer or
``envparity db flush``. One writer drains a directory at a time (an ``flock``), the others exit
at once: a deploy burst on one host does not open a connection per container.

Zombies: :func:`spawn` forks twice, so the writer's parent is the nearest init (a subreaper such
as tini, or PID 1). When ``envparity run`` itself is PID 1 (a container without ``--init``), the
server that replaces it becomes that parent and, never reaping it, keeps one zombie entry until
the container stops: harmless (no memory, one PID), but visible; run the container with
``--init`` (tini) or set ``ENVPARITY_DEFER=0`` to store before the server starts instead.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

DEFER_ENV = "ENVPARITY_DEFER"
_LOCK = ".writer.lock"


def deferred(environ: Mapping[str, str]) -> bool:
    """True unless ``ENVPARITY_DEFER`` is 0/false/no/off: store after the server starts."""
    return environ.get(DEFER_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def spawn(job: Dict[str, Any], environ: Mapping[str, str]) -> Optional[str]:
    """Start the writer for ``job`` detached (double fork, new session); None, or why not.

    The first child exits at once and is reaped here, so nothing of this process's is left for
    the server it becomes to reap; the grandchild execs a fresh interpreter at once (no Python
    runs in a forked copy of a threaded process beyond the exec).
    """
    # Not `-m envparity.hook.writer`: this module is imported by then, and runpy warns.
    main = "import sys; from envparity.hook.writer import main; sys.exit(main(sys.argv))"
    argv = [sys.executable, "-c", main, json.dumps(job)]
    env = dict(environ)
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
    except OSError as e:
        return f"cannot start the writer ({e.strerror or e})"
    try:
        pid = os.fork()
    except OSError as e:
        os.close(devnull)
        return f"cannot start the writer ({e.strerror or e})"
    if pid == 0:  # first child: detach, fork the writer, exit
        try:
            os.setsid()
            if os.fork() == 0:
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)  # stderr stays: the container's log
                os.execve(argv[0], argv, env)
        except BaseException:
            pass
        os._exit(0)
    os.close(devnull)
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass
    return None


def drain(
    directory: str, db_url: Optional[str], timeout_s: float
) -> Tuple[int, int, List[str]]:
    """Store every spooled snapshot in ``directory`` (oldest first), deleting each once stored;
    (stored, already stored, problems). Stops at the first store failure: the rest stay."""
    from ..errors import EnvparityError
    from ..store import fast, fast_pg
    from ..store.rows import rows_from_data
    from .spool import _entries

    stored = already = 0
    problems: List[str] = []
    for name in _entries(directory):
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
            r = rows_from_data(data)
        except FileNotFoundError:
            continue
        except Exception:
            continue  # `db flush` validates it and sets it aside
        try:
            done = fast.save_rows(r, db_url, timeout_s=timeout_s)
            if done is None:
                done = fast_pg.save_rows(r, db_url, timeout_s=timeout_s)
            if done is None:
                done = _save_full(data, db_url, timeout_s)
        except EnvparityError as e:
            problems.append(f"snapshot {name} stays spooled: {e}")
            break
        if done[0]:
            stored += 1
        else:
            already += 1
        try:
            os.unlink(path)
        except OSError:
            pass  # stored: the next drain finds it and the store ignores the duplicate
    return stored, already, problems


def _save_full(data: Dict[str, Any], db_url: Optional[str], timeout_s: float) -> Tuple[bool, str]:
    """A store the lean paths decline (no SQLite file yet, another schema): the full store,
    which creates and migrates a SQLite store but never migrates PostgreSQL."""
    from ..collect.capture import to_snapshot
    from ..store import open_store
    from ..store.url import resolve_url, sqlite_path

    sqlite = sqlite_path(resolve_url(db_url)) is not None
    with open_store(db_url, migrate=sqlite, timeout_s=timeout_s) as store:
        return store.save(to_snapshot(data)), store.url_redacted


def _locked(directory: str) -> Optional[int]:
    """An exclusive, non-blocking lock on the directory's writer lock file; None if held."""
    import fcntl

    try:
        fd = os.open(os.path.join(directory, _LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def run(job: Dict[str, Any], environ: Mapping[str, str]) -> List[str]:
    """Drain the job's spool directory, refresh the baseline cache, compare when asked; the
    lines to log."""
    from ..store.url import db_timeout

    directory = str(job["spool_dir"])
    db_url = job.get("db_url")
    timeout_s = db_timeout()
    lines: List[str] = []
    stored = already = 0
    while True:
        fd = _locked(directory)
        if fd is None:
            break  # another writer drains it, and looks again after it lets go
        try:
            s, a, problems = drain(directory, db_url, timeout_s)
            stored, already = stored + s, already + a
            lines.extend(problems)
        finally:
            os.close(fd)
        if problems:
            break
        from .spool import _entries

        if not _entries(directory):
            break  # spooled meanwhile by a start whose writer found the lock held: go again
    ref = job.get("baseline")
    if ref:
        lines.extend(_refresh(job, environ, timeout_s))
    return lines


def _refresh(job: Dict[str, Any], environ: Mapping[str, str], timeout_s: float) -> List[str]:
    """Cache the baseline afresh; compare the snapshot with it when the hook could not."""
    from ..errors import EnvparityError
    from . import cache
    from .database import _resolve_data

    ref, db_url = str(job["baseline"]), job.get("db_url")
    try:
        baseline = _resolve_data(ref, db_url, timeout_s)
    except EnvparityError as e:
        return [f"baseline {ref!r} not refreshed: {e}"]
    if baseline is None:
        return [f"baseline {ref!r} not refreshed: the store cannot resolve it this way"]
    cache.remember(ref, db_url, baseline, environ)
    sid = job.get("compare")
    if not sid:
        return []
    from .compare import compare

    try:
        snap = _resolve_data(str(sid), db_url, timeout_s)
    except EnvparityError as e:
        return [f"snapshot {str(sid)[:12]} not compared with baseline {ref!r}: {e}"]
    if snap is None:
        return [f"snapshot {str(sid)[:12]} not compared with baseline {ref!r}: not stored"]

    problems: List[str] = []
    report = compare(
        baseline,
        snap,
        policy_path=job.get("policy"),
        fail_on=job.get("fail_on"),
        baseline_ref=ref,
        problems=problems,
    )
    from ..wording import severity_counts

    verdict = report["verdict"]
    counts = severity_counts(report["counts"])
    drift = "no drift" if verdict == "none" else f"{verdict} drift ({counts})"
    return [
        *problems,
        f"snapshot {snap['snapshot_id'][:12]} vs baseline {ref} (after start-up): {drift}",
    ]


def main(argv: List[str]) -> int:
    """The writer process :func:`spawn` starts: ``argv[1]`` is the job, as JSON."""
    try:
        job = json.loads(argv[1])
        lines = run(job, os.environ)
    except BaseException as e:  # nothing to raise into: log one line
        lines = [f"writer failed: {type(e).__name__}: {e}"]
    if lines:
        from ..redact import redact_value
        from ..report.escape import terminal

        try:
            for line in lines:
                sys.stderr.write(terminal(f"envparity: {redact_value(line)}") + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
    return 0


