"""``envparity diff`` and ``envparity check``: the drift report, and the CI gate.

No ``from __future__ import annotations`` here, on purpose: on Python 3.9 Typer reads parameter
annotations without evaluating strings, so ``Annotated[..., typer.Option("-o")]`` written as a
string loses its option names (``-o`` becomes "No such option"). Runtime annotations work on 3.9+.
"""

import sys
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ..errors import EXIT_DRIFT, EXIT_OK, BadInput
from ._app import app, boundary, parse_labels, write_atomic

if TYPE_CHECKING:
    from ..model import DriftReport, Snapshot

_FAIL_ON = ("info", "warning", "error", "never")

FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="text, json, markdown, junit, html or github.")
]
OutputOpt = Annotated[
    Optional[str], typer.Option("--output", "-o", help="Write the report to this file.")
]
FailOnOpt = Annotated[
    Optional[str],
    typer.Option(
        "--fail-on",
        help="Exit 1 when drift reaches this severity: info, warning, error or never "
        "(default: the policy's fail_on, else error).",
    ),
]
PolicyOpt = Annotated[
    Optional[str],
    typer.Option(
        "--policy",
        help="A TOML policy file (default: the tool.envparity table of ./pyproject.toml).",
    ),
]
DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", help="Database URL for refs that are not files (or ENVPARITY_DB_URL)."),
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
) -> None:
    """Diff, render, write, and exit 1 when the drift reaches fail-on."""
    from ..diff import diff
    from ..policy import load_policy
    from ..report import render

    policy = load_policy(policy_path)
    if fail_on is not None:
        policy = policy.model_copy(update={"fail_on": fail_on})
    report = diff(
        baseline, candidate, policy, baseline_ref=baseline_ref, candidate_ref=candidate_ref
    )
    text = render(report, fmt)
    _step_summary(report, text if fmt == "markdown" else None)
    if output:
        write_atomic(output, text)
        # The file is for machines or a summary page; the log still gets the verdict.
        from ..report.interface import verdict_line

        sys.stderr.write(f"{verdict_line(report)}; report written to {output}\n")
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_DRIFT if report.failed else EXIT_OK)


def _step_summary(report: "DriftReport", markdown: Optional[str]) -> None:
    """In GitHub Actions, append the Markdown report to the job's summary page."""
    import os

    from ..report.github import append_step_summary

    problem = append_step_summary(report, os.environ, markdown)
    if problem:
        sys.stderr.write(f"envparity: warning: {problem}\n")


def _check_options(fmt: str, fail_on: Optional[str]) -> None:
    """Reject a bad --format or --fail-on before any work is done."""
    from ..report import check_format

    check_format(fmt)
    if fail_on is not None and fail_on not in _FAIL_ON:
        raise BadInput(f"--fail-on {fail_on!r}: choose one of {', '.join(_FAIL_ON)}")


@app.command("diff")
@boundary
def diff_command(
    baseline: Annotated[str, typer.Argument(help="Baseline ref: a snapshot JSON file, id, tag.")],
    candidate: Annotated[str, typer.Argument(help="Candidate ref, in the same forms.")],
    *,
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    policy: PolicyOpt = None,
    db: DbOpt = None,
) -> None:
    """Explain every difference between two snapshots; exit 1 when drift reaches fail-on."""
    from ..refs import resolve

    _check_options(fmt, fail_on)
    base = resolve(baseline, db)
    cand = resolve(candidate, db)
    _report(
        base,
        cand,
        baseline_ref=baseline,
        candidate_ref=candidate,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        policy_path=policy,
    )


@app.command("check")
@boundary
def check_command(
    *,
    baseline: Annotated[
        str, typer.Option("--baseline", help="The ref to compare this environment against.")
    ],
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    policy: PolicyOpt = None,
    db: DbOpt = None,
    role: Annotated[str, typer.Option(help="Role recorded for this snapshot.")] = "ci",
    label: Annotated[
        Optional[List[str]], typer.Option(help="KEY=VALUE, repeatable, e.g. model=fraud.")
    ] = None,
    python: Annotated[
        Optional[str], typer.Option(help="Check this interpreter instead (a venv's python).")
    ] = None,
    frameworks: Annotated[
        bool,
        typer.Option(help="Import torch/tensorflow/jax to read their determinism switches."),
    ] = False,
    snapshot_output: Annotated[
        Optional[str],
        typer.Option("--snapshot-output", help="Also write this environment's snapshot JSON."),
    ] = None,
    store: Annotated[
        bool,
        typer.Option("--store", help="Also keep this environment's snapshot in the store (--db)."),
    ] = False,
) -> None:
    """Snapshot this environment and diff it against --baseline: the CI gate."""
    from ..collect.capture import capture
    from ..refs import resolve

    _check_options(fmt, fail_on)
    labels = parse_labels(label)
    # The baseline first: an unknown ref fails before the capture's work is spent.
    base = resolve(baseline, db)
    cand = capture(role=role, labels=labels, python=python, frameworks=frameworks)
    if snapshot_output:
        write_atomic(snapshot_output, cand.model_dump_json(indent=2) + "\n")
    if store:
        from ..store import open_store

        with open_store(db) as opened:
            opened.save(cand)
            where = opened.url_redacted
        sys.stderr.write(f"envparity: stored snapshot {cand.snapshot_id} in {where}\n")
    _report(
        base,
        cand,
        baseline_ref=baseline,
        candidate_ref="this environment",
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        policy_path=policy,
    )
