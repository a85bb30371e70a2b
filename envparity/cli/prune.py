"""``envparity db prune``: retention for a store that every container start writes to.

No ``from __future__ import annotations`` (see cli/diff.py: Typer on 3.9 needs real annotations).
"""

import json
import sys
from datetime import timezone
from typing import Annotated

import typer

from ._app import boundary
from ._options import DataFormat, DataFormatOpt, DbOpt, JsonAlias, chosen
from .store import db_app


@db_app.command("prune")
@boundary
def prune_command(
    *,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Delete sightings captured before this: 30d, 12h, 2w, or an ISO date.",
        ),
    ],
    keep_latest: Annotated[
        int,
        typer.Option(
            "--keep-latest",
            min=0,
            metavar="N",
            help="Keep this many newest sightings of each environment.",
        ),
    ] = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")
    ] = False,
    fmt: DataFormatOpt = DataFormat.text,
    json_: JsonAlias = False,
    db: DbOpt = None,
) -> None:
    """Delete old sightings, never one a tag points at (now or in its history) nor the latest of
    an environment, then the environments no sighting refers to any more."""
    from ..fleet import parse_since
    from ..store import open_writer
    from ..store.prune import prune

    cutoff = parse_since(older_than, option="--older-than")
    with open_writer(db) as store:
        result = prune(store, cutoff, keep_latest=keep_latest, dry_run=dry_run)
        where = store.url_redacted
    if chosen(fmt, json_) == "json":
        sys.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
        return
    verb = "would delete" if dry_run else "deleted"
    sys.stdout.write(
        f"{verb} {_count(result.sightings, 'sighting')} and "
        f"{_count(result.environments, 'environment')} captured before "
        f"{cutoff.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}Z from {where}; kept "
        f"{_count(result.kept_tagged, 'tagged snapshot')} and "
        f"{_count(result.kept_latest, 'latest sighting')} of their environments\n"
    )


def _count(n: int, noun: str) -> str:
    from ..wording import count

    return count(n, noun)
