"""CLI modules keep runtime annotations: Typer on Python 3.9 cannot read postponed ones."""

from __future__ import annotations

import re
from pathlib import Path

import envparity.cli

CLI = Path(envparity.cli.__file__).parent


def test_no_postponed_annotations_where_typer_reads_signatures():
    # With `from __future__ import annotations`, Typer 0.23 (the newest for Python 3.9) sees the
    # string "Annotated[...]" and silently drops the option names: `snapshot -o` stops existing.
    offenders = [
        p.name
        for p in CLI.glob("*.py")
        if p.name not in ("__init__.py", "_app.py")
        and re.search(r"^from __future__ import annotations", p.read_text("utf-8"), re.M)
    ]
    assert offenders == []
