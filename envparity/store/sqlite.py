"""SQLite connections and what their failures mean, stdlib only: shared by the stdlib fast path
(:mod:`.fast`) and the SQLAlchemy store (:mod:`.store`), so neither imports the other to open a
file the same way or to name why it failed.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from typing import Any, Optional, Tuple
from urllib.parse import quote

from ..errors import StoreError
from .url import DB_TIMEOUT_ENV, db_timeout, network_fs


def configure(conn: Any, path: Optional[str], busy_timeout_s: float) -> None:
    """The pragmas every envparity SQLite connection gets (this path's and SQLAlchemy's).

    WAL lets readers run beside the writer, but needs shared memory: not on a network file
    system. NORMAL sync is safe with WAL (a crash loses at most the last commits, never the file).
    """
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    if not (path and network_fs(os.path.dirname(os.path.abspath(path)))):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def read_only(path: str) -> bool:
    """True when the store at ``path`` exists but cannot be written: a read-only file, or a
    read-only directory without the WAL's side files (a read-only mount, a locked-down image)."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.exists(path):
        return False
    if not os.access(path, os.W_OK):
        return True
    side_files = all(os.path.exists(path + suffix) for suffix in ("-wal", "-shm"))
    return not os.access(directory, os.W_OK) and not side_files


def sqlite_connect(path: str, timeout_s: float, *, create: bool = True) -> sqlite3.Connection:
    """A configured connection to the SQLite store at ``path`` (autocommit: BEGIN is ours).

    A store that cannot be written is opened read-only and immutable, so it still serves reads
    (SQLite cannot open a WAL database read-only in a directory where it cannot make the WAL's
    side files). Without ``create`` a missing file raises instead of becoming an empty database.
    """
    timeout = max(0.0, timeout_s)
    if read_only(path):
        uri = f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1"
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return conn
    if create:
        conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
    else:
        uri = f"file:{quote(os.path.abspath(path))}?mode=rw"
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
    try:
        configure(conn, path, timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def cause(e: BaseException, path: Optional[str], timeout_s: Optional[float] = None) -> str:
    """What a SQLite error means for the store at ``path``, in words a person acts on.

    SQLite's own messages hide the cause: a read-only directory says "unable to open database
    file", a full disk can surface as "cannot rollback - no transaction is active".
    """
    text = str(getattr(e, "orig", None) or e).strip().splitlines()[0] if str(e).strip() else ""
    low = text.lower()
    code = getattr(getattr(e, "orig", None) or e, "sqlite_errorcode", None)
    where = os.path.abspath(path) if path else "the store"
    directory = os.path.dirname(where) if path else "its directory"
    if "disk is full" in low or code == getattr(sqlite3, "SQLITE_FULL", 13) or (
        isinstance(e, OSError) and e.errno == errno.ENOSPC
    ):
        return (
            f"the disk holding {where} is full ({text or 'no space left'}); free space or "
            "point ENVPARITY_HOME / ENVPARITY_DB_URL elsewhere"
        )
    if path and ("disk i/o error" in low or code == getattr(sqlite3, "SQLITE_IOERR", 10)):
        # SQLite says "disk I/O error" for whatever write failed beneath it; a read fails so
        # too when it cannot make the WAL's shared-memory file. Name the real cause.
        real = _io_cause(where, directory)
        if real:
            return f"{real[1]} ({text}); {_IO_FIX[real[0]]}"
    if "locked" in low or "busy" in low:
        return (
            f"{where} is locked by another writer for longer than "
            f"{f'{timeout_s:g} s' if timeout_s is not None else db_timeout_shown()} "
            f"({text}); retry, or raise {DB_TIMEOUT_ENV}"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (
            f"{where} is damaged or not a SQLite database ({text}); move it aside (envparity "
            "creates a new store) or restore it from a backup"
        )
    if path and ("readonly" in low or "read-only" in low or "unable to open" in low):
        if not os.path.isdir(directory):
            return f"directory {directory} does not exist ({text}); create it first"
        if os.path.exists(where) and not os.access(where, os.W_OK):
            return f"the store file {where} is read-only ({text}); make it writable"
        if not os.access(directory, os.W_OK):
            return (
                f"the store's directory {directory} is read-only ({text}); make it writable or "
                "point ENVPARITY_HOME / ENVPARITY_DB_URL at a writable place"
            )
        if os.path.exists(where) and not os.access(where, os.R_OK):
            return f"the store file {where} is not readable ({text}); check its permissions"
    return text or type(e).__name__


_IO_FIX = {
    "full": "free space or point ENVPARITY_HOME / ENVPARITY_DB_URL elsewhere",
    "limit": "raise the limit (ulimit -f) or point ENVPARITY_DB_URL elsewhere",
    "damaged": "move it aside (envparity creates a new store) or restore it from a backup",
}


def _io_cause(where: str, directory: str) -> Optional[Tuple[str, str]]:
    """What lies behind SQLite's "disk I/O error": a full disk, a file size limit on this
    process, or damaged pages; None when none of them."""
    try:
        st = os.statvfs(directory)
        if st.f_bavail * st.f_frsize < 256 * 1024:
            return "full", f"the disk holding {where} is full"
    except OSError:
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            return "limit", f"file size limit: this process may not write files over {soft} bytes"
    except (ImportError, OSError, ValueError):
        pass
    if os.path.isfile(where):
        from .migrate import quick_check

        try:
            conn = sqlite3.connect(f"file:{quote(where)}?mode=ro&immutable=1", uri=True)
            try:
                problem = quick_check(conn)
            finally:
                conn.close()
        except sqlite3.Error as e:
            problem = str(e)
        if problem:
            return "damaged", f"{where} is damaged (SQLite's quick_check: {problem})"
    return None


def db_timeout_shown() -> str:
    try:
        return f"{db_timeout():g} s"
    except StoreError:
        return "the timeout"
    except ValueError:
        return "the timeout"
