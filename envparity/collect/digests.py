"""Content digests remembered between runs, by each RECORD's path, size and modification time.

A distribution's content digest (:func:`envparity.collect.packages.content_of`) is a function of
its RECORD file alone, and computing it reads and sorts every RECORD line: about 20 ms at 100
distributions, at every start of a server. An installer writes RECORD anew at each install (a new
modification time), so a RECORD whose path, size and modification time are those it had when its
digest was computed holds what it held then, and its digest is read from here instead.

- **Racy entries** (git's rule for its index): a RECORD modified less than two seconds before the
  capture is not remembered, since a rewrite within the file system's timestamp granularity could
  keep both its size and its modification time.
- One file per search path (``identity/<key>.json`` in the first usable state directory:
  ``$ENVPARITY_HOME/identity``, the user cache directory, a private directory under the system
  temp directory), written atomically, and only when what it would hold has changed: a server
  whose distributions have not changed reads it and writes nothing.
- It is only a cache: a file that is missing, damaged, of another shape or unreadable is as good
  as none, and one that cannot be written is not an error.

Stdlib only: the start-up hook reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Dict, List, Mapping, Optional, Sequence

KIND = "identity"
_VERSION = 1
# Two seconds: more than any file system's timestamp granularity (FAT's is two seconds).
RACY_NS = 2_000_000_000


def _valid(entry: object) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], int)
        and isinstance(entry[1], int)
        and isinstance(entry[2], str)
        and len(entry[2]) == 64
    )


class DigestCache:
    """The digests remembered for one search path; :meth:`save` writes what this scan saw."""

    def __init__(self, name: str, environ: Mapping[str, str]) -> None:
        self.name = name
        self.environ = environ
        self.old: Dict[str, List[object]] = {}
        self.new: Dict[str, List[object]] = {}
        self.now_ns = time.time_ns()

    @classmethod
    def open(cls, search: Sequence[str], environ: Mapping[str, str]) -> DigestCache:
        """The cache for ``search`` (a sys.path), read from the first state directory that
        holds it."""
        from ..paths import candidate_dirs
        from ..writer import read_own

        key = hashlib.sha256("\0".join(search).encode("utf-8", "surrogateescape")).hexdigest()
        cache = cls(f"{key[:24]}.json", environ)
        for directory in candidate_dirs(KIND, environ):
            path = os.path.join(directory, cache.name)
            try:
                data = json.loads(read_own(path))
            except (OSError, ValueError, RecursionError):
                continue
            if not isinstance(data, dict) or data.get("version") != _VERSION:
                continue
            entries = data.get("entries")
            if not isinstance(entries, dict):
                continue
            cache.old = {k: v for k, v in entries.items() if isinstance(k, str) and _valid(v)}
            break
        return cache

    def get(self, record: str, info: os.stat_result) -> Optional[str]:
        """The digest remembered for the RECORD at ``record`` as ``info`` finds it, or None."""
        entry = self.old.get(record)
        if entry is None or entry[0] != info.st_size or entry[1] != info.st_mtime_ns:
            return None
        self.new[record] = entry
        return str(entry[2])

    def put(self, record: str, info: os.stat_result, digest: str) -> None:
        """Remember ``digest`` for the RECORD at ``record`` (not when it was just modified)."""
        if info.st_mtime_ns < self.now_ns - RACY_NS:
            self.new[record] = [info.st_size, info.st_mtime_ns, digest]

    def save(self) -> Optional[str]:
        """Write what this scan saw, unless it is what was read; the path written, or None."""
        if self.new == self.old:
            return None
        from ..paths import candidate_dirs, ensure_dir
        from ..writer import write_own

        data = json.dumps({"version": _VERSION, "entries": self.new}, sort_keys=True).encode()
        for directory in candidate_dirs(KIND, self.environ):
            if not ensure_dir(directory):
                continue
            path = os.path.join(directory, self.name)
            try:
                write_own(path, data)
            except OSError:
                continue
            return path
        return None
