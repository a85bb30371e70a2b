"""Atomic file writes (a reader sees the whole file or none of it), and safe ``-o`` output.

Stdlib only.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
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


def _is_stream_path(path: str) -> bool:
    # /dev/stdout, /dev/fd/1, /proc/self/fd/1: another open file of this process's. Writing it
    # through a replacement would leave the shell's redirection pointing at an unlinked file.
    absolute = os.path.abspath(path)
    return absolute.startswith(("/dev/", "/proc/"))


def output_kind(path: str) -> str:
    """How ``write_output`` treats ``path``: stdout, atomic (regular or absent) or direct."""
    if path == "-":
        return "stdout"
    try:
        st = os.stat(path)  # follows symlinks: the target is what gets written
    except FileNotFoundError:
        return "atomic"
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if stat.S_ISREG(st.st_mode) and not _is_stream_path(path):
        return "atomic"
    return "direct"


def write_output(path: str, data: bytes) -> None:
    """Write a user's ``-o PATH``, never damaging what is there.

    ``-`` is stdout. A regular file (or none yet) is written atomically; through a symlink the
    link's target is written atomically and the link is kept. A character device, FIFO, socket or
    a ``/dev/stdout``-like path is opened and written directly: never replaced, chmodded or
    unlinked. Raises OSError (IsADirectoryError for a directory).
    """
    kind = output_kind(path)
    if kind == "stdout":
        out = sys.stdout.buffer
        out.write(data)
        out.flush()
        return
    if kind == "directory":
        raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    if kind == "direct":
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return
    target = os.path.realpath(path) if os.path.islink(path) else path
    write_atomic(target, data, mode=user_file_mode(target))
