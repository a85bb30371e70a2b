"""``envparity export``: a baseline's Python distributions as requirements, constraints, a PEP 751
lock file or a CycloneDX SBOM, so the environment can be reproduced.

No ``from __future__ import annotations`` (see cli/diff.py: Typer on 3.9 needs real annotations).
"""

import sys
from typing import Annotated, List, Optional

import typer

from ._app import app, boundary, write_atomic


@app.command("export")
@boundary
def export_command(
    ref: Annotated[str, typer.Argument(help="The baseline: a snapshot JSON file, id or tag.")],
    *,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="requirements, constraints, pylock (PEP 751) or cyclonedx."
        ),
    ] = "requirements",
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Write to this file ('-': stdout).")
    ] = None,
    only_drift: Annotated[
        Optional[str],
        typer.Option(
            "--only-drift",
            metavar="CANDIDATE",
            help="Only what this candidate ref must change to match the baseline.",
        ),
    ] = None,
    find_links: Annotated[
        Optional[List[str]],
        typer.Option(
            "--find-links",
            metavar="DIR",
            help="pylock: a directory (or page URL) of wheels; repeatable.",
        ),
    ] = None,
    index_url: Annotated[
        Optional[List[str]],
        typer.Option(
            "--index-url",
            metavar="URL",
            help="pylock: a PEP 503 simple index; repeatable (default: pip's configuration).",
        ),
    ] = None,
    include_envparity: Annotated[
        bool,
        typer.Option(
            "--include-envparity", help="Keep envparity's own packages (left out by default)."
        ),
    ] = False,
    db: Annotated[
        Optional[str],
        typer.Option("--db", help="Database URL for refs that are not files (ENVPARITY_DB_URL)."),
    ] = None,
) -> None:
    """Write the baseline's packages so `pip install` can reproduce them."""
    from ..export import FORMATS, export
    from ..refs import resolve

    if fmt not in FORMATS:
        from ..errors import BadInput

        raise BadInput(f"--format {fmt!r}: unknown format; choose one of {', '.join(FORMATS)}")
    baseline = resolve(ref, db)
    candidate = resolve(only_drift, db) if only_drift else None
    text = export(
        baseline,
        fmt,
        ref=ref,
        include_tool=include_envparity,
        candidate=candidate,
        candidate_ref=only_drift,
        find_links=find_links or (),
        index_urls=index_url or (),
    )
    if output and output != "-":
        write_atomic(output, text)
        sys.stderr.write(f"envparity: {len(text.splitlines())} lines written to {output}\n")
    else:
        sys.stdout.write(text)


@app.command("schema")
@boundary
def schema_command(
    name: Annotated[str, typer.Argument(help="snapshot or drift-report.", metavar="NAME")],
) -> None:
    """Print a JSON Schema that ships with envparity (the snapshot, the drift report)."""
    from ..shipped import SCHEMAS, read

    sys.stdout.write(read(SCHEMAS, name))


@app.command("recipe")
@boundary
def recipe_command(
    name: Annotated[str, typer.Argument(help="ci-drift: the CI gate script.", metavar="NAME")],
) -> None:
    """Print a recipe that ships with envparity, e.g. `envparity recipe ci-drift > ci-drift.sh`."""
    from ..shipped import RECIPES, read

    sys.stdout.write(read(RECIPES, name, "recipe"))
