"""A snapshot's relevance section, and the build-time record the start-up hook reads.

:func:`record` is what ``envparity.snapshot()`` / ``snapshot --model`` store under
``relevance``. :func:`remember` keeps each inspected model's records keyed by its path, size and
modification time, so the start-up hook (:func:`recall`) knows what the served model needs with
one ``stat`` call: it never hashes or scans a model on a server's critical path.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..errors import BadInput
from ..writer import read_own, write_own

#: Model paths for snapshots and the start-up hook (comma-separated).
MODEL_VARIABLE = "ENVPARITY_MODEL"
_FILE = "models.json"


def model_paths(explicit: Sequence[str], environ: Mapping[str, str]) -> List[str]:
    """``explicit`` paths, else ``ENVPARITY_MODEL``'s (comma-separated)."""
    if explicit:
        return [str(p) for p in explicit]
    raw = environ.get(MODEL_VARIABLE, "")
    return [p.strip() for p in raw.split(",") if p.strip()]


def policy_models(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """``ENVPARITY_MODEL``'s paths, else ``[tool.envparity] model`` of the nearest
    pyproject.toml (paths relative to it), else none."""
    found = model_paths((), os.environ if environ is None else environ)
    if found:
        return found
    import sys

    from ..drift.policy import load_fields
    from ..errors import EnvparityError

    try:
        return list(load_fields().get("model") or [])
    except EnvparityError as e:
        # The snapshot itself does not need the policy: say why no model is recorded, go on.
        sys.stderr.write(f"envparity: warning: {e}; no [tool.envparity] model recorded\n")
        return []


def record(*, loaded: bool = False, models: Sequence[str] = ()) -> Optional[Dict[str, Any]]:
    """The ``relevance`` section: loaded distributions (``loaded``: an in-process snapshot) and
    the records of ``models``; None when there is neither. A bad model is a BadInput."""
    if not loaded and not models:
        return None
    # Here, not at the top: `snapshot` and the start-up hook import this module for the model
    # paths alone, and these two (importlib.metadata, the archive readers) cost them ~25 ms.
    from . import artifacts, distributions

    section: Dict[str, Any] = {"loaded": None, "dependencies": {}, "models": []}
    for path in models:
        section["models"].extend(artifacts.inspect(path))
    if loaded:
        names = distributions.loaded()
        section["loaded"] = names
        closed = distributions.closure(dict.fromkeys(names, "loaded"))
        section["dependencies"] = {k: v for k, v in sorted(closed.items()) if k not in names}
    return section


def _key(path: str) -> str:
    st = os.stat(path)
    return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"


def _dirs(environ: Mapping[str, str]) -> List[str]:
    from ..paths import candidate_dirs

    return list(candidate_dirs("models", environ))


def remember(path: str, records: List[Dict[str, Any]], environ: Mapping[str, str]) -> None:
    """Keep ``records`` of the model at ``path`` for :func:`recall` (best effort: a read-only
    file system keeps nothing, and the hook then says so)."""
    if path.startswith("mlflow:"):
        return
    try:
        key = _key(path)
    except OSError:
        return
    from ..paths import ensure_dir

    for directory in _dirs(environ):
        if not ensure_dir(directory):
            continue
        target = os.path.join(directory, _FILE)
        try:
            known = json.loads(read_own(target))
            if not isinstance(known, dict):
                known = {}
        except (OSError, ValueError):
            known = {}
        known[key] = records
        try:
            write_own(target, json.dumps(known, sort_keys=True).encode())
            return
        except OSError:
            continue


def recall(path: str, environ: Mapping[str, str]) -> Optional[List[Dict[str, Any]]]:
    """The records :func:`remember` kept for ``path`` as it is now (same size and mtime), or
    None. An unreadable path is a BadInput (the hook logs it)."""
    try:
        key = _key(path)
    except OSError as e:
        raise BadInput(f"model {path}: {e.strerror or e}") from None
    for directory in _dirs(environ):
        try:
            known = json.loads(read_own(os.path.join(directory, _FILE)))
        except (OSError, ValueError):
            continue
        if isinstance(known, dict) and isinstance(known.get(key), list):
            return known[key]  # type: ignore[no-any-return]
    return None
