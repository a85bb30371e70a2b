"""``envparity parity``: the CI gate for "same inputs, same outputs".

No ``from __future__ import annotations``: Typer on Python 3.9 would not evaluate the string
annotations and would silently drop the option names declared in ``Annotated``.
"""

import sys
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ..errors import EXIT_DRIFT, EXIT_OK
from ..report.escape import printable
from ._app import app, boundary, note, write_atomic
from ._options import DbOpt, FailOnOpt, JsonAlias, PolicyOpt, ReportFormat, argument, chosen
from .diff import FormatOpt, MaxBytesOpt, OutputOpt, check_max_bytes

if TYPE_CHECKING:
    from ..model import DriftReport


@app.command("parity")
@boundary
def parity_command(
    baseline: Annotated[
        str,
        argument(
            "BASELINE",
            "The ref whose probe outputs to match: a JSON file, id, tag, fp:..., mlflow:...",
        ),
    ],
    *,
    probes: Annotated[
        Optional[List[str]],
        typer.Option(
            "--probes",
            metavar="MODULE",
            help="Import this module (repeatable; or ENVPARITY_PROBES=a,b), which calls "
            "envparity.register_probe; the probes listed in pyproject's tool.envparity table "
            "are imported too.",
        ),
    ] = None,
    numerics: Annotated[
        Optional[bool],
        typer.Option(
            "--numerics/--no-numerics",
            help="Also run the built-in and convention probes (default: when the baseline has "
            "them).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = ReportFormat.text,
    json_: JsonAlias = False,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    policy: PolicyOpt = None,
    max_bytes: MaxBytesOpt = None,
    db: DbOpt = None,
) -> None:
    """Run the parity probes here and compare every output value with the baseline's; exit 1
    beyond tolerance."""
    from ..parity import gate
    from ..parity.loading import collect_modules
    from ..policy import load_policy
    from ..refs import resolve
    from ..report import render
    from ..wording import count

    check_max_bytes(max_bytes)
    doc_format = chosen(fmt, json_)
    pol = load_policy(policy)
    if fail_on is not None:
        pol = pol.model_copy(update={"fail_on": fail_on.value})
    modules = collect_modules(probes, policy_path=policy)
    base = resolve(baseline, db)
    results = gate.run_here(modules, numerics, base)
    env = gate.here()
    comparisons = gate.compare(base, results, env)
    report = gate.report(base, comparisons, env, pol, baseline_ref=baseline)
    text = render(report, doc_format, max_bytes=max_bytes)
    compared = sum(1 for c in comparisons if c.verdict not in ("skipped", "not compared"))
    summary = (
        f"parity: {count(compared, 'probe')} compared with {baseline}, "
        f"{sum(1 for c in comparisons if c.severity == 'error')} beyond tolerance or failing"
    )
    _step_summary(report, summary, text if doc_format == "markdown" else None, max_bytes)
    if output and output != "-":
        write_atomic(output, text)
        note(f"{summary}; report written to {output}")
    else:
        sys.stdout.write(text)
        note(summary)
    raise typer.Exit(EXIT_DRIFT if report.failed else EXIT_OK)


def _step_summary(
    report: "DriftReport", summary: str, markdown: Optional[str], max_bytes: Optional[int]
) -> None:
    """In GitHub Actions: parity's own section on the job's summary page (a heading naming the
    gate, its one-line result, the report) and the verdict and counts as step outputs."""
    import os

    from ..report import render
    from ..report.github import append_outputs, append_summary_text, outputs

    problems = [append_outputs(outputs(report), os.environ)]
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        body = markdown if markdown is not None else render(report, "markdown", max_bytes=max_bytes)
        section = f"### envparity parity\n\n{printable(summary)}\n\n{body}"
        problems.append(append_summary_text(section, os.environ))
    for problem in problems:
        if problem:
            note(f"envparity: warning: {problem}")
