"""``envparity export``: a baseline's Python distributions as requirements, constraints, a PEP 751
lock file or a CycloneDX SBOM, so the environment can be reproduced.

No ``from __future__ import annotations`` (see cli/diff.py: Typer on 3.9 needs real annotations).
"""

import sys
from typing import Annotated, List, Optional

import typer

from ._app import app, boundary, detail, note, write_atomic
from ._options import DbOpt, ExportFormat, SchemaName, argument


@app.command("export")
@boundary
def export_command(
    ref: Annotated[str, argument("REF", "The baseline: a snapshot JSON file, id, tag, mlflow:...")],
    *,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="pip requirements or constraints, a PEP 751 pylock.toml, a CycloneDX 1.6 SBOM.",
        ),
    ] = ExportFormat.requirements,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", metavar="FILE", help="Write to this file ('-': stdout)."),
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
            help="pylock: a directory (or page URL) of wheels; requirements: pin packages "
            "installed from a wheel file by version (found there) instead of naming the file; "
            "repeatable.",
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
    db: DbOpt = None,
) -> None:
    """Write the baseline's packages so `pip install` can reproduce them."""
    from ..export import export, select
    from ..refs import resolve

    baseline = resolve(ref, db)
    candidate = resolve(only_drift, db) if only_drift else None
    left_out = select(baseline, ref=ref, include_tool=include_envparity).left_out
    if left_out:
        detail(f"envparity: left out envparity's own: {', '.join(left_out)}")
    text = export(
        baseline,
        fmt.value,
        ref=ref,
        include_tool=include_envparity,
        candidate=candidate,
        candidate_ref=only_drift,
        find_links=find_links or (),
        index_urls=index_url or (),
    )
    if output and output != "-":
        write_atomic(output, text)
        note(f"envparity: {fmt.value} for {ref} written to {output}")
    else:
        sys.stdout.write(text)


@app.command("schema")
@boundary
def schema_command(
    name: Annotated[SchemaName, typer.Argument(help="The document the schema describes.")],
) -> None:
    """Print the newest JSON Schema of a document envparity writes (snapshot, drift report,
    bisect report)."""
    from ..shipped import SCHEMAS, read

    sys.stdout.write(read(SCHEMAS, name.value))

