"""Which installed distribution owns a module, what it requires, and what this process loaded.

One pass over the installed distributions reads each one's ``top_level.txt`` (a few bytes) or,
when its build backend wrote none, the first path components of its ``RECORD``; that map is
shaped ``{top-level module: [distribution, ...]}`` (a namespace package has several owners).
``importlib.metadata.packages_distributions()`` gives the same map but costs several times more
(it parses every RECORD with the csv module and builds path objects). Requires-Dist is read
only for the distributions a closure actually reaches.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..collect.packages import _headers, _read_text, normalize

Owners = Dict[str, List[str]]

_CACHE: Dict[Tuple[str, ...], Tuple[Owners, Dict[str, Any]]] = {}


def _record_tops(text: str) -> List[str]:
    """Top-level modules in a RECORD ("path,hash,size" lines). A package's lines are contiguous,
    so after the first line under ``pkg/`` the scan jumps past the last one (one ``rfind``, in
    C): parsing every line in Python costs several times more (numpy's RECORD has ~1,500)."""
    tops = set()
    pos, n = 0, len(text)
    while pos < n:
        end = text.find("\n", pos)
        end = n if end < 0 else end
        path = text[pos:end].split(",", 1)[0].strip('"')
        first, sep, _rest = path.partition("/")
        if sep:
            tops.add(first)
            last = text.rfind("\n" + first + "/", pos)
            if last >= pos:
                after = text.find("\n", last + 1)
                end = n if after < 0 else after
        elif first.endswith((".py", ".so", ".pyd")):
            tops.add(first.split(".", 1)[0])
        pos = end + 1
    # A module name has no dot (numpy.libs, *.dist-info, *.data are not modules).
    return sorted(t for t in tops if t and "." not in t and t != "__pycache__")


def _scan(path: Tuple[str, ...]) -> Tuple[Owners, Dict[str, Any]]:
    owners: Owners = {}
    dists: Dict[str, Any] = {}
    for dist in metadata.distributions(path=list(path)):
        base = getattr(dist, "_path", None)
        folder = os.path.basename(os.fspath(base)) if base is not None else ""
        if folder.startswith("~"):
            continue
        # The dist-info folder name carries the project name (PEP 427): no METADATA read.
        stem = folder.rsplit(".", 1)[0] if folder else ""
        name = normalize(stem.split("-", 1)[0])
        if not name:
            try:
                name = normalize(dist.metadata["Name"] or "")
            except Exception:  # noqa: BLE001 - a broken distribution owns nothing
                continue
        if name in dists:
            continue  # shadowed: the first on sys.path is the one in effect
        dists[name] = dist
        try:
            text = _read_text(dist, "top_level.txt")
            if text:
                tops = [t.strip().split("/", 1)[0] for t in text.splitlines() if t.strip()]
            else:
                tops = _record_tops(_read_text(dist, "RECORD") or "")
        except (OSError, UnicodeDecodeError):
            continue
        for top in tops:
            owners.setdefault(top, [])
            if name not in owners[top]:
                owners[top].append(name)
    return owners, dists


def _installed(path: Optional[Iterable[str]] = None) -> Tuple[Owners, Dict[str, Any]]:
    key = tuple(sys.path if path is None else path)
    found = _CACHE.get(key)
    if found is None:
        found = _scan(key)
        _CACHE.clear()
        _CACHE[key] = found
    return found


def module_owners(path: Optional[Iterable[str]] = None) -> Owners:
    """``{top-level module: [distribution names]}`` for the distributions on ``path``
    (default ``sys.path``), read once per process and path."""
    return _installed(path)[0]


def requires(name: str, path: Optional[Iterable[str]] = None) -> List[str]:
    """The installed distribution ``name``'s Requires-Dist names (extras left out)."""
    dist = _installed(path)[1].get(name)
    if dist is None:
        return []
    try:
        text = _read_text(dist, "METADATA", head=True) or _read_text(dist, "PKG-INFO", head=True)
    except (OSError, UnicodeDecodeError):
        return []
    return _headers(text or "")[1]


def installed(name: str, path: Optional[Iterable[str]] = None) -> bool:
    return name in _installed(path)[1]


def closure(
    start: Dict[str, str], path: Optional[Iterable[str]] = None
) -> Dict[str, str]:
    """``start`` (distribution -> why) plus every installed distribution it requires,
    transitively, each with ``required by X``."""
    out = dict(start)
    todo = list(start)
    while todo:
        name = todo.pop()
        for dep in requires(name, path):
            if dep not in out and installed(dep, path):
                out[dep] = f"required by {name}"
                todo.append(dep)
    return out


def loaded(modules: Optional[Iterable[str]] = None) -> List[str]:
    """The distributions with a module in ``sys.modules`` (or ``modules``), sorted."""
    owners = module_owners()
    names = sys.modules if modules is None else modules
    found = set()
    for module in list(names):
        top = module.partition(".")[0]
        for owner in owners.get(top, ()):
            found.add(owner)
    return sorted(found)
