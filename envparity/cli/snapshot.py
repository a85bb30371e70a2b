"""``envparity snapshot``.

No ``from __future__ import annotations`` in CLI modules: Typer on Python 3.9 reads string
annotations without evaluating them and silently drops the option names declared in Annotated.
"""

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, Dict, List, Optional

import typer

from ._app import app, boundary, note, parse_labels, write_atomic
from ._options import DataFormat, DbOpt, JsonAlias, Suite, chosen

if TYPE_CHECKING:
    from ..model import Snapshot


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
        typer.Option(metavar="KEY=VALUE", help="KEY=VALUE, repeatable, e.g. model=fraud."),
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
    from ..collect.capture import capture, collect_data
    from ..parity.loading import env_probes

    labels = parse_labels(label)
    chosen_suite = suite or bench
    suite_name = chosen_suite.value if chosen_suite else None
    json_ = chosen(fmt, json_) == "json"
    probes = list(probes or env_probes())
    measured = bool(suite_name or numerics or bench_callable or probes)
    if measured:
        from ..parity.loading import collect_modules, import_probes

        # Before the suite runs: importing them registers their probes and benchmarks.
        import_probes(collect_modules(probes))
    if no_store and not measured:
        # Nothing to store or attach: write the probes' JSON data as it is, without building the
        # pydantic models (their import and schema build cost more than the capture itself).
        data = collect_data(role=role, labels=labels, python=python, frameworks=frameworks)
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
    snap = capture(role=role, labels=labels, python=python, frameworks=frameworks)
    if suite_name or numerics or bench_callable:
        from ..bench.runner import attach

        snap = attach(snap, suite_name, callables=bench_callable or (), numerics=numerics)
        if snap.numerics is not None and not python:
            from ..collect.simd import numpy_simd

            snap = snap.model_copy(update={"numpy_simd": numpy_simd()})
    if probes and snap.numerics is None:
        from ..parity.loading import attach_registered

        snap = attach_registered(snap)
    _emit(snap.model_dump_json(indent=2), output, json_)
    # Stored after the file and stdout are written, so a store that fails loses nothing.
    stored = "" if no_store else f", stored in {_store(snap, db, output)}"
    errors = [e.model_dump() for e in snap.collection.errors]
    _summary(snap.snapshot_id, snap.fingerprint, len(snap.packages), errors, output, stored)


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


def _store(snap: "Snapshot", db: Optional[str], output: Optional[str]) -> str:
    """Save ``snap`` in the store; returns where (redacted).

    An existing SQLite store at this schema is written with stdlib sqlite3 (store.fast): importing
    SQLAlchemy would cost more than the capture. Anything else goes through open_store.
    """
    from ..errors import StoreError
    from ..store.fast import save_or_open
    from ..store.url import resolve_url, sqlite_path

    try:
        # A command migrates only its own SQLite file; PostgreSQL only by `envparity db upgrade`.
        return save_or_open(snap, db, migrate=sqlite_path(resolve_url(db)) is not None)[1]
    except StoreError as e:
        kept = f"it was written to {output}" if output else "use -o FILE to keep it, or --no-store"
        raise StoreError(f"snapshot {snap.snapshot_id[:12]} not stored: {e}; {kept}") from None
