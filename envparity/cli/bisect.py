"""``envparity bisect``: which difference between the baseline and here causes the symptom.

No ``from __future__ import annotations`` in CLI modules (Typer on Python 3.9; see cli/diff.py).
"""

import sys
from typing import Annotated, List, Optional

import typer

from ._app import app, boundary, write_atomic
from ._options import BisectFormat, DbOpt, JsonAlias, OutputOpt, argument, chosen

# Exit codes of bisect alone (docs/design.md, "Exit codes"): 2 bad input and 3 store as everywhere.
EXIT_CAUSE_FOUND = 0
EXIT_UNEXPLAINED = 1
EXIT_NOT_REPRODUCED = 4
_EXIT = {
    "cause_found": EXIT_CAUSE_FOUND,
    "unexplained": EXIT_UNEXPLAINED,
    "not_reproduced": EXIT_NOT_REPRODUCED,
}


@app.command("bisect")
@boundary
def bisect_command(
    baseline: Annotated[
        str,
        argument(
            "BASELINE",
            "Baseline ref (a snapshot JSON file, id, tag, fp:..., mlflow:...) with the stored "
            "probe outputs or benchmark results.",
        ),
    ],
    *,
    probes: Annotated[
        Optional[List[str]],
        typer.Option(
            "--probes",
            metavar="MODULE",
            help="Module registering your parity probes (repeatable; or ENVPARITY_PROBES=a,b); "
            "importable from the current directory.",
        ),
    ] = None,
    bench: Annotated[
        Optional[List[str]],
        typer.Option(
            "--bench",
            metavar="NAME",
            help="A built-in benchmark whose time is the symptom "
            "(repeatable), e.g. numpy_gemm_f32.",
        ),
    ] = None,
    python: Annotated[
        Optional[str],
        typer.Option(
            metavar="PATH",
            help="Bisect for this interpreter (a venv's python) instead of this one.",
        ),
    ] = None,
    find_links: Annotated[
        Optional[List[str]],
        typer.Option(
            "--find-links", metavar="DIR", help="Directory of wheels for the overlays (repeatable)."
        ),
    ] = None,
    index_url: Annotated[
        Optional[str],
        typer.Option(
            "--index-url",
            metavar="URL",
            help="Package index for the overlays (default: your pip configuration).",
        ),
    ] = None,
    max_trials: Annotated[
        int, typer.Option("--max-trials", metavar="N", help="At most this many trials.")
    ] = 64,
    budget: Annotated[
        float,
        typer.Option(
            "--budget",
            metavar="SECONDS",
            help="Seconds for the whole search; a trial gets the "
            "remaining budget over the trials still needed, at least 30 s.",
        ),
    ] = 600.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the overlay directory (it is printed).")
    ] = False,
    fmt: Annotated[
        BisectFormat,
        typer.Option("--format", "-f", help="Print text, Markdown or JSON.", case_sensitive=False),
    ] = BisectFormat.text,
    json_: JsonAlias = False,
    output: OutputOpt = None,
    db: DbOpt = None,
) -> None:
    """Find which difference causes a failing probe or a slower benchmark: restore the
    differences in child processes (variables, package overlays) and delta-debug them.

    Exit 0: a cause found; 1: the symptom reproduces but no testable difference explains it;
    4: the symptom does not reproduce here; 2: bad input; 3: the store.
    """
    from ..bisect.core import bisect
    from ..bisect.render import check_format, headline, render
    from ..parity.loading import env_probes
    from ..refs import resolve

    fmt_name = check_format(chosen(fmt, json_))
    base = resolve(baseline, db)
    report = bisect(
        base,
        baseline_ref=baseline,
        probes=probes or env_probes(),  # ENVPARITY_PROBES, as in every command with --probes
        bench=bench or [],
        python=python,
        find_links=find_links or [],
        index_url=index_url,
        max_trials=max_trials,
        budget=budget,
        keep=keep,
    )
    text = render(report, fmt_name)
    if output:
        write_atomic(output, text)
        sys.stderr.write(f"{headline(report)}; report written to {output}\n")
    else:
        sys.stdout.write(text)
    raise typer.Exit(_EXIT[report.outcome])
