"""The packages of a conda environment, from its ``conda-meta/*.json`` records. Stdlib only."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Optional

from ..distnames import unsafe
from ..redact import redact_url
from .interface import Context

PROBE = "packages"


# A conda subdir, and what may follow it (a package file name: micromamba 2.0 writes one there).
_CONDA_SUBDIR = re.compile(
    r"/(?:noarch|(?:linux|osx|win|emscripten|wasi|freebsd|zos)-[a-z0-9_]+)"
    r"(?:/[^/]+\.(?:conda|tar\.bz2))?$"
)
_CONDA_TOKEN = re.compile(r"/t/[^/]+(?=/)")
_CONDA_HOSTS = (
    ("https://conda.anaconda.org/", ""),
    ("http://conda.anaconda.org/", ""),
    ("https://repo.anaconda.com/pkgs/", "pkgs/"),
)


def conda_channel(value: Optional[str]) -> Optional[str]:
    """One spelling of a conda channel, as conda itself names it in ``conda list``.

    ``https://conda.anaconda.org/conda-forge/linux-64``, ``.../conda-forge`` and ``conda-forge``
    are all ``conda-forge``; ``https://repo.anaconda.com/pkgs/main/noarch`` is ``pkgs/main``;
    another host keeps its URL without the subdir. A ``/t/<token>/`` segment (a private channel's
    access token) is dropped: it says who may read the channel, not what is in it, and it never
    reaches the store.
    """
    if not value or not str(value).strip():
        return None
    text = redact_url(str(value).strip()).rstrip("/")
    text = _CONDA_TOKEN.sub("", text)
    text = _CONDA_SUBDIR.sub("", text)
    for prefix, short in _CONDA_HOSTS:
        if text.startswith(prefix):
            return short + text[len(prefix) :]
    return text


def conda_packages(prefix: str, ctx: Context) -> List[Dict[str, Any]]:
    """The packages of the conda environment at ``prefix`` (its conda-meta/*.json), sorted."""
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except OSError:
        return []
    found: List[Dict[str, Any]] = []
    for n in names:
        path = os.path.join(meta, n)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            name, version = str(data["name"]), str(data["version"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            ctx.fail(PROBE, f"unreadable conda-meta record: {e}", path)
            continue
        why = unsafe(name) or unsafe(version)
        if why:
            ctx.fail(PROBE, f"conda-meta name or version {why}; left out", path)
            continue
        # conda writes the channel URL with its subdir, micromamba 1.x the short name and 2.0
        # the name with the subdir and file; old conda only ``schannel``; the package ``url``
        # says it too. One spelling for all (conda_channel), so the tool that created the
        # environment is not part of its identity.
        channel = data.get("channel") or data.get("schannel")
        if not channel and data.get("url"):
            channel = str(data["url"]).rsplit("/", 1)[0]
        found.append(
            {
                "name": name,
                "version": version,
                "build": str(data.get("build") or data.get("build_string") or ""),
                "channel": conda_channel(channel),
            }
        )
    found.sort(key=lambda r: (r["name"], r["version"], r["build"]))
    return found
