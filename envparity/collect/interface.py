"""What every probe gets: a :class:`Context`, and a place to record what it could not read.

A probe is a function ``probe(ctx) -> dict`` returning the Snapshot fields it fills. It records a
problem with one item (an unreadable file, a broken dist-info) with :meth:`Context.fail` and goes
on; an exception escaping a probe is caught by ``capture`` and recorded the same way. Stdlib only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional


@dataclass
class Context:
    """Where probes read from. Tests point the roots at fixture trees."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    proc: str = "/proc"
    sys: str = "/sys"
    etc: str = "/etc"
    cwd: str = field(default_factory=os.getcwd)
    frameworks: bool = False  # import torch/tensorflow/jax to read their switches
    subprocess: bool = True  # may run git (never on the start-up hook's path)
    # Content digests remembered between runs by RECORD path, size and mtime (collect.digests).
    digest_cache: bool = True
    errors: List[Dict[str, Any]] = field(default_factory=list)
    # What a probe wants said about how it recorded something (not a failure: never drift).
    notes: List[str] = field(default_factory=list)

    def fail(self, probe: str, message: str, path: Optional[str] = None) -> None:
        """Record that ``probe`` could not read something, and carry on."""
        self.errors.append({"probe": probe, "message": message, "path": path})

    def read(self, probe: str, path: str) -> Optional[str]:
        """The text of ``path``, or None (recorded) when it cannot be read.

        A missing file is normal (another kernel, no cgroup v1) and is not recorded.
        """
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            self.fail(probe, f"cannot read: {e.strerror or e}", path)
            return None
