"""Which database a command uses, and how its URL is shown.

Precedence: an explicit URL (``--db``), then ``ENVPARITY_DB_URL``, then SQLite at
``$ENVPARITY_HOME/envparity.db``, then SQLite in the user's data directory. Stdlib only, so the
CLI can name the store without importing SQLAlchemy.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from ..errors import BadInput, StoreError, UnsupportedStore
from ..redact import redact_url

DB_URL_ENV = "ENVPARITY_DB_URL"
HOME_ENV = "ENVPARITY_HOME"
DB_FILENAME = "envparity.db"
DB_TIMEOUT_ENV = "ENVPARITY_DB_TIMEOUT"
DEFAULT_DB_TIMEOUT_S = 10.0

# Schemes people type for PostgreSQL; SQLAlchemy would pick psycopg2 for the bare ones, and
# envparity depends on psycopg 3.
_PG_ALIASES = ("postgres://", "postgresql://")

# File systems where SQLite's WAL (shared memory between processes) is unsafe.
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "ceph", "glusterfs", "lustre"}
PG_SCHEME = "postgresql+psycopg://"


def data_dir() -> str:
    """The directory the default SQLite store lives in (not created here): ``$ENVPARITY_HOME``,
    else the user data directory as platformdirs defines it (XDG on Linux: a relative
    ``XDG_DATA_HOME`` is ignored, as the spec says)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return home
    user_home = os.environ.get("HOME")
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if sys.platform != "win32" and user_home is not None and not os.path.isabs(user_home):
        if not os.path.isabs(xdg):
            # An empty or relative $HOME ("" would expand to "/"): normal in a bare container.
            raise _no_home()
    import platformdirs

    try:
        base = platformdirs.user_data_dir(appname="envparity", appauthor=False)
    except RuntimeError:  # platformdirs 4.4+: neither $HOME nor a passwd entry
        raise _no_home() from None
    if not os.path.isabs(base):  # older platformdirs leave "~" unexpanded then
        raise _no_home()
    return base


def _no_home() -> StoreError:
    return StoreError(
        "no home directory to keep the default store in; "
        f"set {HOME_ENV} to a writable directory or {DB_URL_ENV} to a database URL"
    )


def db_timeout(value: Optional[str] = None) -> float:
    """Seconds a database may take to connect, run one statement or wait for one lock.

    ``value`` (else ``ENVPARITY_DB_TIMEOUT``, else 10). The one setting for every connection:
    PostgreSQL's connect, statement and lock timeouts, the client-side deadline that cuts a
    connection whose server never answers, and SQLite's busy timeout.
    """
    import math

    text = value if value is not None else os.environ.get(DB_TIMEOUT_ENV, "")
    if not text.strip():
        return DEFAULT_DB_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= 86400):
        raise BadInput(
            f"{DB_TIMEOUT_ENV}={text!r}: expected seconds above 0 (at most a day), e.g. 10"
        )
    return seconds


def default_sqlite_path() -> str:
    """Where the default SQLite store is, ``$ENVPARITY_HOME/envparity.db`` or the data dir's."""
    return os.path.join(data_dir(), DB_FILENAME)


def resolve_url(url: Optional[str] = None) -> str:
    """The database URL to use; creates the default store's directory when that is the answer."""
    chosen = url or os.environ.get(DB_URL_ENV)
    if chosen:
        return normalize(chosen)
    path = default_sqlite_path()
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise StoreError(
            f"cannot create the store directory {directory} ({e.strerror}); "
            f"set {HOME_ENV} to a writable directory or {DB_URL_ENV} to a database URL"
        ) from None
    return "sqlite:///" + path


# The database kinds envparity stores into (the part of the scheme before any "+driver").
_BACKENDS = ("sqlite", "postgresql")


def normalize(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3; other supported URLs are kept as
    given. Any other kind of database is bad input (exit 2), said before anything is opened."""
    url = url.strip()
    for alias in _PG_ALIASES:
        if url.startswith(alias):
            return PG_SCHEME + url[len(alias) :]
    scheme, sep, _ = url.partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if not sep:
        # Without a scheme there is no userinfo to redact: the whole text may be a secret.
        raise UnsupportedStore(
            f"the database URL is not a URL envparity understands (from --db or {DB_URL_ENV}); "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    if backend not in _BACKENDS:
        raise UnsupportedStore(
            f"store {shown(url)}: {backend} is not supported; "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    return url


def sqlite_path(url: str) -> Optional[str]:
    """The file a ``sqlite:///`` URL names (None for other databases and in-memory SQLite)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            return path if path and path != ":memory:" else None
    return None


def shown(url: str) -> str:
    """The only form a database URL is ever printed in: userinfo and secrets redacted."""
    return redact_url(url)


def network_fs(path: str) -> bool:
    """True when ``path`` is on a network file system (where SQLite must not use WAL)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) > 2]
    except OSError:
        return False
    real = os.path.realpath(path)
    best, fstype = "", ""
    for point, kind in mounts:
        point = point.replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best, fstype = point, kind
    return fstype in _NETWORK_FS
