"""``envparity recipe``: files that ship with envparity, printed to stdout (the CI gate script, a
Grafana dashboard over the fleet's metrics).

No ``from __future__ import annotations`` (see cli/diff.py: Typer on 3.9 needs real annotations).
"""

import os
import sys
from typing import Annotated, List, Optional

import typer

from ._app import app, boundary
from ._options import RecipeName


@app.command("recipe")
@boundary
def recipe_command(
    name: Annotated[
        RecipeName,
        typer.Argument(
            help="ci-drift: the CI gate script; grafana: a dashboard (JSON) over the metrics "
            "of `fleet --format openmetrics`."
        ),
    ],
    *,
    metric_label: Annotated[
        Optional[List[str]],
        typer.Option(
            "--metric-label",
            metavar="KEY",
            help="grafana: the snapshot labels the metrics carry, as `fleet --metric-label` "
            "(repeatable; or ENVPARITY_METRIC_LABELS; default: model); the first groups the "
            "per-model panels.",
        ),
    ] = None,
) -> None:
    """Print a recipe that ships with envparity, e.g. `envparity recipe ci-drift > ci-drift.sh`
    or `envparity recipe grafana > envparity.json` (import it in Grafana)."""
    if name is RecipeName.grafana:
        from ..report.grafana import render
        from ..report.openmetrics import metric_label_keys

        sys.stdout.write(render(metric_label_keys(metric_label, os.environ)))
        return
    from ..shipped import RECIPES, read

    sys.stdout.write(read(RECIPES, name.value, "recipe"))
