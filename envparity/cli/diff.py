"""``envparity diff`` and ``envparity check``: the drift report, and the CI gate.

No ``from __future__ import annotations`` here, on purpose: on Python 3.9 Typer reads parameter
annotations without evaluating strings, so ``Annotated[..., typer.Option("-o")]`` written as a
string loses its option names (``-o`` becomes "No such option"). Runtime annotations work on 3.9+.
"""

import sys
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ..errors import EXIT_DRIFT, EXIT_OK, BadInput
from ._app import RECORDED_LABEL_HELP, app, boundary, note, recorded_labels, write_atomic
from ._options import DbOpt, FailOnOpt, JsonAlias, PolicyOpt, ReportFormat, argument, chosen

if TYPE_CHECKING:
    from ..model import DriftReport, Snapshot

FormatOpt = Annotated[
    ReportFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="text; json, markdown, junit, html for files and CI; github for Actions annotations.",
    ),
]
OutputOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to this file (html with benchmarks: the chart also as a "
        "standalone SVG beside it, report.html -> report.chart.svg).",
    ),
]
MaxBytesOpt = Annotated[
    Optional[int],
    typer.Option(
        "--max-bytes",
        metavar="N",
        help="Cap the Markdown report at N bytes, at least 4096 (default 1 MiB, GitHub's "
        "step-summary limit; 65000 fits a PR comment): findings in severity order as long as "
        "they fit, then a count of those left out. JSON and HTML are always complete.",
    ),
]


WaiveOpt = Annotated[
    Optional[List[str]],
    typer.Option(
        "--waive",
        metavar="KEY",
        help='Accept the findings matching KEY (a "category:key" glob, e.g. package:numpy): they '
        "stay in the report, as info, marked with the reason. Repeatable; each needs a --reason.",
    ),
]
ReasonOpt = Annotated[
    Optional[List[str]],
    typer.Option("--reason", metavar="TEXT", help="Why, one per --waive, in order."),
]
UntilOpt = Annotated[
    Optional[List[str]],
    typer.Option(
        "--until",
        metavar="DATE",
        help="YYYY-MM-DD after which a --waive expires (one for all, or one per --waive).",
    ),
]


def waivers(
    keys: Optional[List[str]], reasons: Optional[List[str]], until: Optional[List[str]]
) -> List[dict]:
    """The --waive/--reason/--until options as policy waivers; a waiver without a reason (or a
    reason or date without a waiver) is a BadInput."""
    from ..drift.policy import parse_until

    keys, reasons, until = list(keys or []), list(reasons or []), list(until or [])
    if len(reasons) != len(keys) or any(not r.strip() for r in reasons):
        raise BadInput(
            f"--waive: {len(keys)} waiver(s) and {len(reasons)} --reason: give each --waive KEY "
            "a --reason TEXT saying why the finding is accepted"
        )
    if until and len(until) not in (1, len(keys)):
        raise BadInput("--until: give one date for all waivers, or one per --waive")
    dates = [parse_until(u, f"--until {u!r}") for u in until]
    if len(dates) == 1:
        dates = dates * len(keys)
    return [
        {"key": k, "reason": r.strip(), "until": dates[i] if dates else None}
        for i, (k, r) in enumerate(zip(keys, reasons))
    ]


def _report(
    baseline: "Snapshot",
    candidate: "Snapshot",
    *,
    baseline_ref: str,
    candidate_ref: str,
    fmt: str,
    output: Optional[str],
    fail_on: Optional[str],
    policy_path: Optional[str],
    max_bytes: Optional[int] = None,
    waive: Optional[List[dict]] = None,
) -> None:
    """Diff, render, write, and exit 1 when the drift reaches fail-on."""
    from ..diff import diff
    from ..policy import load_policy
    from ..report import render

    policy = load_policy(policy_path)
    if fail_on is not None:
        policy = policy.model_copy(update={"fail_on": fail_on})
    if waive:
        policy = policy.with_waivers(waive)
    report = diff(
        baseline, candidate, policy, baseline_ref=baseline_ref, candidate_ref=candidate_ref
    )
    text = render(report, fmt, max_bytes=max_bytes)
    _step_summary(report, text if fmt == "markdown" else None, max_bytes)
    if output and output != "-":
        write_atomic(output, text)
        # The file is for machines or a summary page; the log still gets the verdict.
        from ..report.interface import verdict_line

        chart = _chart_beside(report, output) if fmt == "html" else None
        also = f" (its benchmark chart also as {chart})" if chart else ""
        note(f"{verdict_line(report)}; report written to {output}{also}")
    elif fmt == "text":
        import os

        from ..report.colour import write

        write(text, sys.stdout, os.environ)
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_DRIFT if report.failed else EXIT_OK)


def chart_path(output: str) -> str:
    """Where the standalone chart of an HTML report goes: ``report.html`` -> ``report.chart.svg``
    (beside it, same stem)."""
    import os

    stem, ext = os.path.splitext(output)
    return (stem if ext.lower() in (".html", ".htm") else output) + ".chart.svg"


def _chart_beside(report: "DriftReport", output: str) -> Optional[str]:
    """Write the benchmark chart as an SVG file beside the HTML report; its path, or None when
    the report has no chart (or the output is not a regular file)."""
    from ..report.svg import standalone_chart
    from ..writer import output_kind

    chart = standalone_chart(report.benchmarks)
    if chart is None or output_kind(output) != "atomic":
        return None
    path = chart_path(output)
    write_atomic(path, chart)
    return path


def _step_summary(
    report: "DriftReport", markdown: Optional[str], max_bytes: Optional[int] = None
) -> None:
    """In GitHub Actions, append the Markdown report to the job's summary page and the verdict,
    counts and fingerprints to the step's outputs."""
    import os

    from ..report.github import append_outputs, append_step_summary, outputs

    for problem in (
        append_step_summary(report, os.environ, markdown, max_bytes=max_bytes),
        append_outputs(outputs(report), os.environ),
    ):
        if problem:
            note(f"envparity: warning: {problem}")


def check_max_bytes(max_bytes: Optional[int]) -> None:
    """Reject a --max-bytes too small to hold a report before any work is done."""
    if max_bytes is None:
        return
    from ..report.markdown import MIN_MAX_BYTES

    if max_bytes < MIN_MAX_BYTES:
        raise BadInput(
            f"--max-bytes {max_bytes}: too small to hold a report; give at least {MIN_MAX_BYTES} "
            "(65000 fits a PR comment)"
        )


@app.command("diff")
@boundary
def diff_command(
    baseline: Annotated[
        str, argument("BASELINE", "Baseline ref: a snapshot JSON file, id, tag, mlflow:...")
    ],
    candidate: Annotated[str, argument("CANDIDATE", "Candidate ref, in the same forms.")],
    *,
    fmt: FormatOpt = ReportFormat.text,
    json_: JsonAlias = False,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    policy: PolicyOpt = None,
    max_bytes: MaxBytesOpt = None,
    db: DbOpt = None,
    waive: WaiveOpt = None,
    reason: ReasonOpt = None,
    until: UntilOpt = None,
) -> None:
    """Explain every difference between two snapshots; exit 1 when drift reaches fail-on."""
    from ..refs import resolve

    check_max_bytes(max_bytes)
    accepted = waivers(waive, reason, until)
    base = resolve(baseline, db)
    cand = resolve(candidate, db)
    _report(
        base,
        cand,
        baseline_ref=baseline,
        candidate_ref=candidate,
        fmt=chosen(fmt, json_),
        output=output,
        fail_on=fail_on.value if fail_on else None,
        policy_path=policy,
        max_bytes=max_bytes,
        waive=accepted,
    )


@app.command("check")
@boundary
def check_command(
    *,
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline",
            envvar="ENVPARITY_BASELINE",
            metavar="REF",
            help="The ref to compare this environment against.",
        ),
    ],
    fmt: FormatOpt = ReportFormat.text,
    json_: JsonAlias = False,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    policy: PolicyOpt = None,
    max_bytes: MaxBytesOpt = None,
    db: DbOpt = None,
    waive: WaiveOpt = None,
    reason: ReasonOpt = None,
    until: UntilOpt = None,
    role: Annotated[
        str,
        typer.Option(
            envvar="ENVPARITY_ROLE", metavar="ROLE", help="Role recorded for this snapshot."
        ),
    ] = "ci",
    label: Annotated[
        Optional[List[str]],
        typer.Option(metavar="KEY=VALUE", help=RECORDED_LABEL_HELP),
    ] = None,
    python: Annotated[
        Optional[str],
        typer.Option(metavar="PATH", help="Check this interpreter instead (a venv's python)."),
    ] = None,
    frameworks: Annotated[
        bool,
        typer.Option(help="Import torch/tensorflow/jax to read their determinism switches."),
    ] = False,
    snapshot_output: Annotated[
        Optional[str],
        typer.Option(
            "--snapshot-output", metavar="FILE", help="Also write this environment's snapshot JSON."
        ),
    ] = None,
    store: Annotated[
        bool,
        typer.Option("--store", help="Also keep this environment's snapshot in the store (--db)."),
    ] = False,
    probes: Annotated[
        Optional[List[str]],
        typer.Option(
            "--probes",
            metavar="MODULE",
            help="Import this module (repeatable; or ENVPARITY_PROBES=a,b), which calls "
            "envparity.register_probe, and "
            "compare its probes' outputs with the baseline's (the policy's probes too).",
        ),
    ] = None,
) -> None:
    """Snapshot this environment and diff it against --baseline: the CI gate."""
    from ..parity.loading import collect_modules
    from ..pipeline import SnapshotRequest, take
    from ..pipeline import store as store_snapshot
    from ..refs import resolve

    check_max_bytes(max_bytes)
    accepted = waivers(waive, reason, until)
    labels = recorded_labels(label)
    modules = collect_modules(probes, policy_path=policy)
    # The baseline first: an unknown ref fails before the capture's work is spent.
    base = resolve(baseline, db)
    # The built-in probes too when the baseline has them: else each would be "missing".
    builtin = bool(modules) and any(r.kind != "user" for r in base.numerics or [])
    cand = take(
        SnapshotRequest(
            role=role,
            labels=labels,
            python=python,
            frameworks=frameworks,
            numerics=builtin or None,
            probe_modules=tuple(modules),
        )
    )
    if snapshot_output:
        write_atomic(snapshot_output, cand.model_dump_json(indent=2) + "\n")
    if store:
        where = store_snapshot(cand, db)
        note(f"envparity: stored snapshot {cand.snapshot_id} in {where}")
    _report(
        base,
        cand,
        baseline_ref=baseline,
        candidate_ref="this environment",
        fmt=chosen(fmt, json_),
        output=output,
        fail_on=fail_on.value if fail_on else None,
        policy_path=policy,
        max_bytes=max_bytes,
        waive=accepted,
    )
