"""Atomic file writes: a reader sees the whole file or none of it. Stdlib only."""

from __future__ import annotations

import os
import tempfile
from typing import Optional


def write_atomic(
    path: str, data: bytes, *, durable: bool = False, mode: Optional[int] = None
) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``.

    ``durable`` fsyncs first, for files that are the only copy of something (the spool). The file
    is private (0600, as the temporary file is made) unless ``mode`` says otherwise. On any
    failure the temporary file is removed and the previous ``path``, if any, is untouched.
    Raises OSError.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".envparity-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def user_file_mode(path: str) -> int:
    """The mode a file the user asked for should get: the existing file's, else 0666 & ~umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
