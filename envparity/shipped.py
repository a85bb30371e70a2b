"""Files that ship inside the wheel: the JSON Schemas (schemas/) and the CI recipe (scripts/).

The build copies them into ``envparity/_data/`` (setup.py); an editable install or a checkout
reads them where they are committed.
"""

from __future__ import annotations

import os
from typing import Dict, Tuple

from .errors import BadInput

# name -> (committed directory, file name)
SCHEMAS: Dict[str, Tuple[str, str]] = {
    "snapshot": ("schemas", "snapshot.v1.json"),
    "drift-report": ("schemas", "drift-report.v1.json"),
}
RECIPES: Dict[str, Tuple[str, str]] = {"ci-drift": ("scripts", "ci-drift.sh")}

_HERE = os.path.dirname(os.path.abspath(__file__))


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
