"""``envparity snapshot``.

No ``from __future__ import annotations`` in CLI modules: Typer on Python 3.9 reads string
annotations without evaluating them and silently drops the option names declared in Annotated.
"""

import json
import sys
from typing import Annotated, Any, Dict, List, Optional

import typer

from ._app import RECORDED_LABEL_HELP, app, boundary, note, recorded_labels, write_atomic
from ._options import DataFormat, DbOpt, JsonAlias, Suite, chosen


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
    from ..parity.loading import collect_modules, env_probes
    from ..pipeline import SnapshotRequest, store, take, take_data

    models = _models(model)
    chosen_suite = suite or bench
    probes = list(probes or env_probes())
    request = SnapshotRequest(
        role=role,
        labels=recorded_labels(label),
        python=python,
        frameworks=frameworks,
        suite=chosen_suite.value if chosen_suite else None,
        numerics=numerics,
        callables=tuple(bench_callable or ()),
        probe_modules=tuple(collect_modules(probes)) if probes else (),
        models=tuple(models),
    )
    json_ = chosen(fmt, json_) == "json"
    if no_store and not request.measured:
        # Nothing to store or attach: write the probes' JSON data as it is, without building the
        # pydantic models (their import and schema build cost more than the capture itself).
        data = take_data(request)
        _remember(models, data.get("relevance"))
        _emit(json.dumps(data, indent=2, ensure_ascii=False), output, json_)
        _summary(
            data["snapshot_id"],
            data["fingerprint"],
            len(data["packages"]),
            data["collection"]["errors"],
            output,
            stored="",
        )
        return
    snap = take(request)
    _remember(models, snap.model_dump(mode="json").get("relevance") if models else None)
    _emit(snap.model_dump_json(indent=2), output, json_)
    # Stored after the file and stdout are written, so a store that fails loses nothing.
    kept = f"it was written to {output}" if output else "use -o FILE to keep it, or --no-store"
    stored = "" if no_store else f", stored in {store(snap, db, kept=kept)}"
    errors = [e.model_dump() for e in snap.collection.errors]
    _summary(snap.snapshot_id, snap.fingerprint, len(snap.packages), errors, output, stored)


def _models(given: Optional[List[str]]) -> List[str]:
    import os

    from ..relevance.record import model_paths, policy_models

    return model_paths(given or (), os.environ) or (policy_models() if given is None else [])


def _remember(models: List[str], relevance: Optional[Dict[str, Any]]) -> None:
    """Keep each model's record for the start-up hook (keyed by path, size and mtime): a
    `snapshot --model` at image build time spares the server scanning it at start-up."""
    if not models or not relevance:
        return
    import os

    from ..relevance.record import remember

    records = relevance.get("models") or []
    for path in models:
        mine = [r for r in records if str(r.get("path", "")).startswith(path)]
        remember(path, mine, os.environ)


def _emit(text: str, output: Optional[str], to_stdout: bool) -> None:
    if output:
        write_atomic(output, text + "\n")
    if to_stdout:
        sys.stdout.write(text + "\n")


def _summary(
    snapshot_id: str,
    fingerprint: str,
    packages: int,
    errors: List[Dict[str, Any]],
    output: Optional[str],
    stored: str,
) -> None:
    """One line on stderr (stdout may carry the JSON), then one line per probe error."""
    from ..wording import count

    where = (f", written to {output}" if output else "") + stored
    note(
        f"snapshot {snapshot_id[:12]} fingerprint {fingerprint[:12]}: "
        f"{count(packages, 'package')}, {count(len(errors), 'probe error')}{where}"
    )
    for failure in errors:
        place = f" ({failure['path']})" if failure.get("path") else ""
        sys.stderr.write(f"  probe {failure['probe']}: {failure['message']}{place}\n")
