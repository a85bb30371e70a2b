"""``envparity snapshot``.

No ``from __future__ import annotations`` in CLI modules: Typer on Python 3.9 reads string
annotations without evaluating them and silently drops the option names declared in Annotated.
"""

from typing import Annotated, List, Optional

import typer

from ._app import RECORDED_LABEL_HELP, app, boundary
from ._options import DataFormat, DbOpt, JsonAlias, Suite, chosen
from ._snapshot_core import (
    emit,
    model_list,
    remember_models,
    snapshot_request,
    summary_line,
    write_data,
)


@app.command()
@boundary
def snapshot(
    *,
    role: Annotated[
        str,
        typer.Option(
            envvar="ENVPARITY_ROLE",
            metavar="ROLE",
            help="Where this runs: training, serving, ci (free text).",
        ),
    ] = "",
    label: Annotated[
        Optional[List[str]],
        typer.Option(metavar="KEY=VALUE", help=RECORDED_LABEL_HELP),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the snapshot JSON to this file."
        ),
    ] = None,
    fmt: Annotated[
        DataFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text: a summary line on stderr; json: also the snapshot JSON on stdout.",
        ),
    ] = DataFormat.text,
    json_: JsonAlias = False,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not store it in the database.")
    ] = False,
    db: DbOpt = None,
    python: Annotated[
        Optional[str],
        typer.Option(
            metavar="PATH",
            help="Snapshot this interpreter instead (a venv's or a container's python).",
        ),
    ] = None,
    frameworks: Annotated[
        bool,
        typer.Option(help="Import torch/tensorflow/jax to read their determinism switches."),
    ] = False,
    suite: Annotated[
        Optional[Suite],
        typer.Option(
            "--suite",
            case_sensitive=False,
            help="Also run this benchmark suite (as `envparity bench --suite`); results go in "
            "the snapshot.",
        ),
    ] = None,
    bench: Annotated[
        Optional[Suite],
        typer.Option("--bench", hidden=True, case_sensitive=False, help="Same as --suite."),
    ] = None,
    numerics: Annotated[
        Optional[bool],
        typer.Option(help="Record numeric probes (default: on with --suite, else off)."),
    ] = None,
    bench_callable: Annotated[
        Optional[List[str]],
        typer.Option(
            metavar="MODULE:FUNCTION", help="A function of yours to time with --suite (repeatable)."
        ),
    ] = None,
    model: Annotated[
        Optional[List[str]],
        typer.Option(
            "--model",
            metavar="PATH",
            help="A model artifact (pickle, joblib, torch, ONNX, MLflow directory or "
            "mlflow:models:/... ref; repeatable; default ENVPARITY_MODEL, then the model list "
            "of the tool.envparity table in pyproject.toml): record what it needs, read "
            "without loading it, so that diff judges each package by whether the model uses it.",
        ),
    ] = None,
    probes: Annotated[
        Optional[List[str]],
        typer.Option(
            "--probes",
            metavar="MODULE",
            help="Import this module (repeatable; or ENVPARITY_PROBES=a,b), which calls "
            "envparity.register_probe, and record its parity probes (with --numerics or --suite "
            "also the built-in ones, and the policy's probes).",
        ),
    ] = None,
) -> None:
    """Capture this environment (packages, Python, OS, CPU, GPU, BLAS, determinism, seeds)."""
    from ..pipeline import store, take

    models = model_list(model)
    chosen_suite = suite or bench
    request = snapshot_request(
        role=role,
        labels=label,
        python=python,
        models=models,
        frameworks=frameworks,
        suite=chosen_suite.value if chosen_suite else None,
        numerics=numerics,
        callables=bench_callable or (),
        probes=probes,
    )
    json_ = chosen(fmt, json_) == "json"
    if no_store and not request.measured:
        write_data(request, models, output, json_)
        return
    snap = take(request)
    remember_models(models, snap.model_dump(mode="json").get("relevance") if models else None)
    emit(snap.model_dump_json(indent=2), output, json_)
    # Stored after the file and stdout are written, so a store that fails loses nothing.
    kept = f"it was written to {output}" if output else "use -o FILE to keep it, or --no-store"
    stored = "" if no_store else f", stored in {store(snap, db, kept=kept)}"
    errors = [e.model_dump() for e in snap.collection.errors]
    summary_line(snap.snapshot_id, snap.fingerprint, len(snap.packages), errors, output, stored)
