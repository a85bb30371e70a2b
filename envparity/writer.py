"""Every file envparity writes goes through one of three modes here, chosen by who owns the file.

- **User output** (:func:`write_output`): ``-o``, reports, exports, ``ENVPARITY_METRICS_FILE``. A
  regular file (or none yet) is replaced atomically, a reader sees the whole file or none of it;
  through a symlink its target is replaced and the link kept. A character device, FIFO or socket is
  written in place and never replaced, chmodded or unlinked (``/dev/null`` stays a device). A FIFO
  is opened non-blocking: with no reader that is :class:`NoReader`, not a hang.
- **Own file** (:func:`write_own`, :func:`read_own`): what envparity keeps for itself (spool,
  caches, relevance records). Regular files only, never through a symlink (``O_NOFOLLOW``):
  anything else at the path is refused and left alone.
- **Runner file** (:func:`append_runner`): files the CI runner owns (``$GITHUB_STEP_SUMMARY``,
  ``$GITHUB_OUTPUT``). Appended to only: never truncated, replaced or created anew in its place.

Stdlib only (the start-up hook writes its spool and metrics through here). Every function raises
OSError; the callers turn it into their own one-line message.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from typing import Optional

USER = "user output"
OWN = "own file"
RUNNER = "runner file"
MODES = (USER, OWN, RUNNER)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class NoReader(OSError):
    """A FIFO that nobody reads: writing it would block forever."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.ENXIO, "a FIFO with no reader; start its reader first", path)


class NotRegular(OSError):
    """An own file's path holds something other than a regular file (a link, FIFO, device)."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(errno.EEXIST, f"is {kind}, not a regular file; left it alone", path)


def kind_of(mode: int) -> str:
    """What a file of ``mode`` is, in words (``a FIFO``, ``a device``, ...)."""
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def write_atomic(
    path: str, data: bytes, *, durable: bool = False, mode: Optional[int] = None
) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``.

    The primitive under :func:`write_output` and :func:`write_own`; call one of those. ``durable``
    fsyncs first, for files that are the only copy of something (the spool). The file is private
    (0600, as the temporary file is made) unless ``mode`` says otherwise. On any failure the
    temporary file is removed and the previous ``path``, if any, is untouched.
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
    """How :func:`write_output` treats ``path``: stdout, atomic (regular or absent), directory or
    direct (written in place)."""
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


def _open_in_place(path: str, flags: int) -> int:
    """``os.open`` without blocking on a FIFO that has no reader (ENXIO: :class:`NoReader`); the
    descriptor is made blocking again so that a slow reader gets all the data."""
    try:
        fd = os.open(path, flags | _NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise NoReader(path) from None
        raise
    if _NONBLOCK:
        try:
            os.set_blocking(fd, True)
        except OSError:
            os.close(fd)
            raise
    return fd


def _write_fd(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_output(path: str, data: bytes, *, mode: Optional[int] = None) -> None:
    """Write a user's output ``path`` (``-o``, a report, an export, the metrics file), never
    damaging what is there.

    ``-`` is stdout. A regular file (or none yet) is written atomically, keeping its mode (a new
    one gets ``mode``, else 0666 & ~umask); through a symlink the link's target is written
    atomically and the link is kept. A character device, FIFO, socket or a ``/dev/stdout``-like
    path is written in place: never replaced, chmodded or unlinked. Raises OSError
    (IsADirectoryError for a directory, :class:`NoReader` for a FIFO nobody reads).
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
        _write_fd(_open_in_place(path, os.O_WRONLY | os.O_APPEND), data)
        return
    target = os.path.realpath(path) if os.path.islink(path) else path
    exists = os.path.exists(target)
    new_mode = user_file_mode(target) if exists or mode is None else mode
    write_atomic(target, data, mode=new_mode)


def _check_own(path: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise NotRegular(path, kind_of(info.st_mode))


def write_own(path: str, data: bytes, *, durable: bool = False) -> None:
    """Write one of envparity's own files (spool, caches) atomically, private
    (0600). Only a regular file, or nothing, may be at ``path``: a symlink, FIFO, device or
    directory there is :class:`NotRegular` and stays as it was."""
    _check_own(path)
    write_atomic(path, data, durable=durable)


def read_own(path: str, limit: Optional[int] = None) -> bytes:
    """The bytes of one of envparity's own files: never through a symlink (``O_NOFOLLOW``), never
    blocking on a FIFO, only a regular file (else :class:`NotRegular`); at most ``limit`` + 1
    bytes when given."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise NotRegular(path, "a symlink") from None
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(path, kind_of(info.st_mode))
        return f.read() if limit is None else f.read(limit + 1)


def append_runner(path: str, data: bytes) -> None:
    """Append ``data`` to a file the CI runner owns (``$GITHUB_STEP_SUMMARY``, ``$GITHUB_OUTPUT``):
    never truncated, replaced or chmodded; created (0666 & ~umask) only when missing. A FIFO with
    no reader is :class:`NoReader`; a directory IsADirectoryError."""
    try:
        if stat.S_ISDIR(os.stat(path).st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    except FileNotFoundError:
        pass
    _write_fd(_open_in_place(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), data)


__all__ = [
    "MODES",
    "NoReader",
    "NotRegular",
    "append_runner",
    "output_kind",
    "read_own",
    "write_own",
    "write_output",
]
