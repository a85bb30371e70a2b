"""``envparity run`` (the serving entrypoint), ``envparity fleet`` and ``envparity db flush``.

No ``from __future__ import annotations``: Typer on Python 3.9 would not evaluate the string
annotations and would silently drop the option names and help declared in ``Annotated``.
"""

import os
import sys
from typing import Annotated, List, Optional

import typer

from ..errors import EXIT_REFUSED, DriftRefused
from ._app import app, boundary
from ._options import NAMED, DbOpt, FleetFormat, JsonAlias, PolicyOpt, chosen
from .store import db_app

# The run command's options are read as plain strings and checked by the hook's configuration
# (envparity.hook.config), the same code that reads ENVPARITY_*: a bad value is logged and its
# default used, because a typo in a container's entrypoint must not stop the server.
_ENV_NOTE = "Every option can also come from ENVPARITY_* variables (see README, Serving)."


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    epilog=_ENV_NOTE,
)
@boundary
def run(
    command: Annotated[
        Optional[List[str]],
        typer.Argument(help="The server to start, after --.", metavar="CMD...", click_type=NAMED),
    ] = None,
    *,
    baseline: Annotated[
        Optional[str],
        typer.Option(
            metavar="REF", help="The training baseline: a ref or a snapshot JSON file."
        ),
    ] = None,
    on_drift: Annotated[
        Optional[str],
        typer.Option(
            metavar="warn|fail",
            help="warn (default): log and start; fail: exit 78 without starting CMD when the "
            "drift reaches fail-on or no comparison could be made.",
        ),
    ] = None,
    role: Annotated[
        Optional[str], typer.Option(metavar="ROLE", help="Role of this snapshot (serving).")
    ] = None,
    label: Annotated[
        Optional[List[str]],
        typer.Option(metavar="KEY=VALUE", help="KEY=VALUE, repeatable, e.g. model=fraud."),
    ] = None,
    db: Annotated[
        Optional[str], typer.Option(metavar="URL", help="Database URL (or ENVPARITY_DB_URL).")
    ] = None,
    budget: Annotated[
        Optional[str],
        typer.Option(metavar="SECONDS", help="Seconds the whole check may take (default 2)."),
    ] = None,
    fail_on: Annotated[
        Optional[str],
        typer.Option(
            metavar="info|warning|error|never", help="Fail-on (default: the policy's, else error)."
        ),
    ] = None,
    spool_dir: Annotated[
        Optional[str],
        typer.Option(metavar="DIR", help="Where to keep snapshots the store cannot take."),
    ] = None,
    policy: Annotated[
        Optional[str],
        typer.Option(metavar="FILE", help="A TOML policy file (or ENVPARITY_POLICY)."),
    ] = None,
) -> None:
    """Check this environment against its baseline, then exec CMD (same PID, same signals).

    Logs one summary line and one JSON line to stderr. Never stops CMD from starting unless
    --on-drift fail is given and the drift reaches fail-on, or the baseline could not be compared
    at all (exit 78; the log line says why).

    By default nothing waits on the database: the snapshot is spooled, compared with the cached
    baseline (--on-drift fail reads it afresh), and stored by a detached writer after CMD starts;
    ENVPARITY_DEFER=0 stores it before.
    """
    from ..hook import run as run_hook

    try:
        run_hook(
            command or [],
            baseline=baseline,
            on_drift=on_drift,
            role=role,
            labels=label,
            db_url=db,
            budget_s=budget,
            fail_on=fail_on,
            spool_dir=spool_dir,
            policy=policy,
        )
    except DriftRefused:
        # The hook's summary line already says why; a second line would only repeat it.
        raise typer.Exit(EXIT_REFUSED) from None


@app.command()
@boundary
def fleet(
    *,
    baseline: Annotated[
        Optional[str],
        typer.Option(
            envvar="ENVPARITY_BASELINE",
            metavar="REF",
            help="Compare every environment with this ref or file.",
        ),
    ] = None,
    role: Annotated[
        Optional[str], typer.Option(metavar="ROLE", help="Only sightings of this role.")
    ] = None,
    label: Annotated[
        Optional[List[str]],
        typer.Option(metavar="KEY=VALUE", help="Only sightings with KEY=VALUE, repeatable."),
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option(metavar="AGE", help="Only sightings since: 30m, 24h, 7d, or an ISO date."),
    ] = None,
    fmt: Annotated[
        FleetFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text, json, markdown, html, or openmetrics for Prometheus.",
        ),
    ] = FleetFormat.text,
    json_: JsonAlias = False,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", metavar="FILE", help="Write it to this file ('-': stdout)."),
    ] = None,
    metric_label: Annotated[
        Optional[List[str]],
        typer.Option(
            "--metric-label",
            metavar="KEY",
            help="With --format openmetrics: export this snapshot label as a metric label "
            "(repeatable; or ENVPARITY_METRIC_LABELS=model,team; default: model).",
        ),
    ] = None,
    policy: PolicyOpt = None,
    db: DbOpt = None,
) -> None:
    """Sightings grouped by environment: how many, on how many hosts, drift from the baseline."""
    from ._fleet_core import fleet_command

    fleet_command(
        baseline=baseline,
        role=role,
        labels=label,
        since=since,
        fmt=chosen(fmt, json_),
        output=output,
        metric_labels=metric_label,
        policy=policy,
        db=db,
    )


@db_app.command()
@boundary
def flush(
    *,
    db: DbOpt = None,
    spool_dir: Annotated[
        Optional[str],
        typer.Option(
            envvar="ENVPARITY_SPOOL_DIR",
            metavar="DIR",
            help="The spool directory (the defaults are also read).",
        ),
    ] = None,
) -> None:
    """Store the snapshots the start-up hook spooled while the store was unreachable.

    Idempotent: each is stored once however often (or however concurrently) this runs, and a
    file is deleted only once the store has its snapshot.
    """
    from ..errors import StoreError
    from ..hook import flush as replay
    from ..store import open_writer

    with open_writer(db) as store:
        result = replay(store, os.environ, spool_dir)
        where = store.url_redacted
    for path, why in result.invalid:
        sys.stderr.write(f"envparity: {path}: {why}; renamed to {path}.invalid\n")
    for path, why in result.failed:
        sys.stderr.write(f"envparity: {path}: {why}\n")
    for entry in result.dropped:
        sys.stderr.write(f"envparity: {entry.describe()}\n")
    lost = sum(entry.count for entry in result.dropped)
    sys.stdout.write(
        f"flushed the spool into {where}: {result.stored} stored, "
        f"{result.already_stored} already there, {len(result.invalid)} invalid, "
        f"{len(result.failed)} failed, {lost} dropped earlier (spool full)\n"
    )
    if not result.error:
        from ..hook.spool import clear_dropped

        clear_dropped(result.dropped)  # reported: the next flush counts afresh
    if result.error:
        raise StoreError(f"{result.error} (the snapshots not stored are still spooled)")
