"""Installed distributions, as the interpreter's own ``pip list`` sees them. Stdlib only.

Discovery is importlib.metadata's; each dist-info is then read defensively, because one broken
distribution (no METADATA, non-UTF-8 bytes, no Name, the ``~pkg`` residue of an interrupted
install) must never stop the scan: it is named in ``collection.errors`` and skipped.
"""

from __future__ import annotations

import json
import os
import re
import sys
from importlib import metadata
from typing import Any, Dict, List, Optional, Tuple

from ..redact import redact_url
from .interface import Context

PROBE = "packages"
_NORMALIZE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return _NORMALIZE.sub("-", name).lower()


def _headers(text: str) -> Dict[str, str]:
    # Only Name and Version are needed, and they sit in the header block: stopping at the first
    # blank line skips the long description, which is most of the file and most of the parse time
    # when email.parser reads the whole message.
    found: Dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version") and key.lower() not in found:
            found[key.lower()] = value.strip()
    return found


def _direct_url(dist: Any) -> Dict[str, Any]:
    text = dist.read_text("direct_url.json")
    if not text:
        return {}
    data = json.loads(text)
    info: Dict[str, Any] = {}
    if data.get("url"):
        info["url"] = redact_url(str(data["url"]))
    if (data.get("dir_info") or {}).get("editable"):
        info["editable"] = True
    vcs = data.get("vcs_info")
    if vcs:
        info["vcs"] = vcs.get("vcs")
        info["commit"] = vcs.get("commit_id")
    return info


def _read(dist: Any, where: str, ctx: Context) -> Optional[Dict[str, Any]]:
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    except UnicodeDecodeError:
        ctx.fail(PROBE, "metadata is not UTF-8; reinstall this distribution", where)
        return None
    except OSError as e:
        ctx.fail(PROBE, f"cannot read metadata: {e.strerror or e}", where)
        return None
    if not text:
        ctx.fail(PROBE, "no METADATA file; reinstall this distribution", where)
        return None
    headers = _headers(text)
    if not headers.get("name") or not headers.get("version"):
        missing = "Name" if not headers.get("name") else "Version"
        ctx.fail(PROBE, f"metadata has no {missing}; reinstall this distribution", where)
        return None
    record: Dict[str, Any] = {
        "name": normalize(headers["name"]),
        "version": headers["version"],
        "installer": None,
        "editable": False,
        "vcs": None,
        "url": None,
        "commit": None,
    }
    try:
        installer = dist.read_text("INSTALLER")
        if installer and installer.strip():
            record["installer"] = installer.strip()
        record.update(_direct_url(dist))
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as e:
        ctx.fail(PROBE, f"unreadable INSTALLER or direct_url.json: {e}", where)
    return record


def collect(ctx: Context, path: Optional[List[str]] = None) -> Dict[str, Any]:
    """``{"packages": [...], "shadowed": [...]}`` for the distributions on ``path`` (sys.path).

    The first distribution of a name on sys.path is the one in effect; later ones are shadowed.
    The same dist-info reached twice (lib and lib64, a symlinked site-packages) counts once.
    """
    search = list(sys.path if path is None else path)
    seen_paths = set()
    in_effect: Dict[str, Dict[str, Any]] = {}
    shadowed: List[Dict[str, Any]] = []
    real_dirs: Dict[str, str] = {}  # realpath per directory, not per distribution: it adds up
    for dist in metadata.distributions(path=search):
        where = str(getattr(dist, "_path", "") or dist.locate_file(""))
        parent, base = os.path.split(where)
        if parent not in real_dirs:
            real_dirs[parent] = os.path.realpath(parent)
        real = os.path.join(real_dirs[parent], base)
        if real in seen_paths:
            continue
        seen_paths.add(real)
        if os.path.basename(where).startswith("~"):
            ctx.fail(PROBE, "residue of an interrupted install; delete this directory", where)
            continue
        record = _read(dist, where, ctx)
        if record is None:
            continue
        record["location"] = os.path.dirname(where)
        if record["name"] in in_effect:
            shadowed.append(record)
        else:
            in_effect[record["name"]] = record

    def key(r: Dict[str, Any]) -> Tuple[str, str]:
        return (r["name"], r.get("location") or "")

    return {
        "packages": sorted(in_effect.values(), key=key),
        "shadowed": sorted(shadowed, key=key),
    }
