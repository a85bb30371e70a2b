"""Atomic file writes: a reader sees the whole file or none of it. Stdlib only."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``.

    ``durable`` fsyncs first, for files that are the only copy of something (the spool). On any
    failure the temporary file is removed and the previous ``path``, if any, is untouched.
    Raises OSError.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".envparity-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
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
