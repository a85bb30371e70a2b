"""Files that ship inside the wheel: the JSON Schemas (schemas/) and the CI recipe (scripts/).

The build copies them into ``envparity/_data/`` (setup.py); an editable install or a checkout
reads them where they are committed.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Tuple

from .errors import BadInput

RECIPES: Dict[str, Tuple[str, str]] = {"ci-drift": ("scripts", "ci-drift.sh")}

_HERE = os.path.dirname(os.path.abspath(__file__))
_SCHEMA_FILE = re.compile(r"(?P<name>[a-z][a-z0-9-]*)\.v(?P<version>[0-9]+)\.json")


def _schema_files() -> List[str]:
    """The committed schema files: the wheel's ``_data`` when it has them, else the checkout's."""
    checkout = os.path.join(os.path.dirname(_HERE), "schemas")
    for directory in (os.path.join(_HERE, "_data"), checkout):
        try:
            names = [n for n in os.listdir(directory) if _SCHEMA_FILE.fullmatch(n)]
        except OSError:
            continue
        if names:
            return names
    return []


def latest_schemas() -> Dict[str, Tuple[str, str]]:
    """Document name -> (committed directory, file name) of its newest schema version.

    Found by listing the shipped files (``snapshot.v2.json`` beats ``snapshot.v1.json``), so a new
    version is printed by ``envparity schema`` as soon as it is committed; older versions stay as
    the record and are never printed by name.
    """
    best: Dict[str, Tuple[int, str]] = {}
    for filename in _schema_files():
        match = _SCHEMA_FILE.fullmatch(filename)
        assert match is not None
        version = int(match.group("version"))
        name = match.group("name")
        if name not in best or version > best[name][0]:
            best[name] = (version, filename)
    return {name: ("schemas", filename) for name, (_, filename) in sorted(best.items())}


# name -> (committed directory, file name): the newest version of each shipped schema.
SCHEMAS: Dict[str, Tuple[str, str]] = latest_schemas()


def path(kind: Dict[str, Tuple[str, str]], name: str, what: str = "schema") -> str:
    """Where the shipped file ``name`` is: in the installed package, else in the checkout."""
    if name not in kind:
        raise BadInput(f"{what} {name!r}: unknown; choose one of {', '.join(sorted(kind))}")
    directory, filename = kind[name]
    for candidate in (
        os.path.join(_HERE, "_data", filename),
        os.path.join(os.path.dirname(_HERE), directory, filename),
    ):
        if os.path.isfile(candidate):
            return candidate
    raise BadInput(f"{what} {name!r}: {filename} is missing from this installation; reinstall it")


def read(kind: Dict[str, Tuple[str, str]], name: str, what: str = "schema") -> str:
    """The text of the shipped file ``name``."""
    with open(path(kind, name, what), encoding="utf-8") as f:
        return f.read()
