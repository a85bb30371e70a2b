"""Where the hook keeps local state (the spool, the baseline cache).

Containers often have a read-only root, no $HOME, or a $HOME that is not writable, and all of
those are normal. So every kind of state has a list of candidate directories, tried in order:
an explicit directory (ENVPARITY_SPOOL_DIR), then ``$ENVPARITY_HOME/<kind>``, then the user cache
directory (platformdirs), then a per-user directory under the system temp directory.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from typing import Iterator, List, Mapping, Optional

_CACHE_KEYS = ("HOME", "XDG_CACHE_HOME")
# Where platformdirs follows the XDG rule (every POSIX system but macOS and Android), the rule is
# read here from the mapping: importing platformdirs would cost each server start ~2 ms for one
# line. tests/cli/test_dirs.py checks the two agree.
_XDG = os.name == "posix" and sys.platform != "darwin" and "ANDROID_DATA" not in os.environ


def _user_cache_dir(environ: Mapping[str, str]) -> Optional[str]:
    """The user cache directory as platformdirs defines it (XDG on Linux: a relative
    ``XDG_CACHE_HOME`` is ignored, as the spec says), or None without a usable home."""
    home, xdg = environ.get("HOME", ""), environ.get("XDG_CACHE_HOME", "")
    if os.name == "posix" and not os.path.isabs(home) and not os.path.isabs(xdg):
        # No usable $HOME (a container started with a bare uid): no user cache directory.
        return None
    if _XDG or any(environ.get(k) != os.environ.get(k) for k in _CACHE_KEYS):
        # The XDG rule, from the mapping given (platformdirs reads only the process's).
        return xdg if os.path.isabs(xdg) else os.path.join(home, ".cache")
    import platformdirs  # ~2 ms; macOS and Windows conventions

    try:
        path = platformdirs.user_cache_dir(appname=None, appauthor=False)
    except RuntimeError:  # no home directory at all
        return None
    return path if os.path.isabs(path) else None


def _temp_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"envparity-{uid}")


def candidate_dirs(
    kind: str, environ: Mapping[str, str], explicit: Optional[str] = None
) -> Iterator[str]:
    """The directories that may hold ``kind`` ("spool", "baselines"), most preferred first.

    Lazy: a caller that stops at the first usable directory (an ``ENVPARITY_HOME`` that is
    writable, as in most containers) never computes the user cache directory.
    """

    def all_dirs() -> Iterator[str]:
        if explicit:
            yield os.path.abspath(explicit)
        home = environ.get("ENVPARITY_HOME", "")
        if home:
            yield os.path.join(os.path.abspath(home), kind)
        cache = _user_cache_dir(environ)
        if cache:
            yield os.path.join(cache, "envparity", kind)
        yield os.path.join(_temp_dir(), kind)

    seen: List[str] = []
    for directory in all_dirs():
        if directory not in seen and _safe(directory):
            seen.append(directory)
            yield directory


def _safe(directory: str) -> bool:
    """False under the shared temp directory when someone else made our path there: what another
    user planted must be neither written through (a symlink) nor read back (a fake snapshot)."""
    temp = _temp_dir()
    if not directory.startswith(temp + os.sep):
        return True
    try:
        info = os.lstat(temp)
    except OSError:
        return True
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid


def ensure_dir(directory: str) -> bool:
    """Create ``directory`` (private to this user) when missing; False when that is impossible."""
    try:
        temp = _temp_dir()
        if directory.startswith(temp + os.sep):
            # makedirs gives only the leaf the mode; the parent in /tmp must be private too.
            try:
                os.mkdir(temp, 0o700)
            except FileExistsError:
                pass
        if not _safe(directory):
            return False
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)
