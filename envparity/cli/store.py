"""``envparity list``, ``show``, ``tag`` and ``db upgrade|current|info``: the store's commands."""

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ..errors import BadInput
from ..report.escape import json_text, terminal
from ._app import app, boundary, note, parse_labels
from ._options import DataFormat, DataFormatOpt, DbOpt, JsonAlias, argument, chosen

if TYPE_CHECKING:
    from ..model import Snapshot
    from ..store import SchemaInfo

db_app = typer.Typer(
    name="db",
    help="The database: migrate it, and say where it is and which schema it has.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

DbOption = DbOpt


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


@app.command("list")
@boundary
def list_(
    *,
    role: Annotated[
        Optional[str], typer.Option(metavar="ROLE", help="Only snapshots with this role.")
    ] = None,
    label: Annotated[
        Optional[List[str]],
        typer.Option(metavar="KEY=VALUE", help="KEY=VALUE the snapshot must carry; repeatable."),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="At most this many, newest first.")
    ] = 50,
    fmt: DataFormatOpt = DataFormat.text,
    json_: JsonAlias = False,
    db: DbOption = None,
) -> None:
    """List stored snapshots, newest first."""
    json_ = chosen(fmt, json_) == "json"
    from ..store import open_reader
    from ..store.base import check_limit

    labels = parse_labels(label)
    check_limit(limit)  # bad input is exit 2 whether or not a store exists yet
    if _not_created(db):
        rows = []
    else:
        with open_reader(db) as store:
            rows = store.list_snapshots(role=role, labels=labels or None, limit=limit)
    if json_:
        rows_json = json.dumps([r.model_dump(mode="json") for r in rows], indent=2, sort_keys=True)
        _out(json_text(rows_json))
        return
    if not rows:
        if (role is not None or labels) and store_has_any(db):
            wanted = ", ".join(
                ([f"--role {role}"] if role is not None else [])
                + [f"--label {k}={v}" for k, v in sorted(labels.items())]
            )
            note(f"no stored snapshot matches {wanted}; `envparity list` shows what is stored")
        else:
            note("no snapshots stored yet; take one with `envparity snapshot`")
        return
    from ..wording import table

    header = ("SNAPSHOT", "CAPTURED (UTC)", "ROLE", "FINGERPRINT", "PYTHON", "PKGS", "HOST",
              "LABELS / TAGS")
    body = [
        (
            r.snapshot_id[:12],
            f"{r.captured_at:%Y-%m-%d %H:%M:%S}",
            r.role or "-",
            r.fingerprint[:12],
            r.python_version,
            str(r.package_count),
            r.hostname or "-",
            " ".join(
                [f"{k}={v}" for k, v in sorted(r.labels.items())] + [f"[{t}]" for t in r.tags]
            ),
        )
        for r in rows
    ]
    # Roles, labels, hosts and tags come from data: no ESC/CR/bidi reaches the terminal.
    cells = [[terminal(c) for c in row] for row in body]
    for line in table(header, cells, right=[5]):
        _out(line)


def store_has_any(db: Optional[str]) -> bool:
    """True when the store holds at least one snapshot."""
    from ..store import open_reader

    if _not_created(db):
        return False
    with open_reader(db) as store:
        return bool(store.list_snapshots(limit=1))


def _not_created(db: Optional[str]) -> bool:
    """True when the store is a SQLite file that does not exist yet: nothing stored, and a
    read creates nothing."""
    import os

    from ..store.url import resolve_url, sqlite_path

    path = sqlite_path(resolve_url(db))
    if path is None or not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return False  # open_reader names the missing directory
    return not os.path.exists(path)


def _render(snap: "Snapshot") -> str:
    """A person's view of one snapshot: who, where, and the packages."""
    p, c, g = snap.platform, snap.cpu, snap.gpus
    labels = ", ".join(f"{k}={v}" for k, v in sorted(snap.labels.items())) or "-"
    gpus = ", ".join(d.name for d in g.devices) or g.state
    blas = ", ".join(f"{b.internal_api} {b.version or ''}".strip() for b in snap.blas) or "-"
    lines = [
        f"snapshot     {snap.snapshot_id}",
        f"fingerprint  {snap.fingerprint}",
        f"captured     {snap.captured_at.isoformat()}",
        f"role         {snap.role or '-'}",
        f"labels       {labels}",
        f"host         {p.hostname or '-'}",
        f"python       {snap.python.implementation} {snap.python.version}",
        f"platform     {p.os_name or p.system} {p.os_version or ''} {p.arch} "
        f"(kernel {p.kernel or '?'}, libc {p.libc or '?'} {p.libc_version or ''})".rstrip(),
        f"cpu          {c.model or '?'} ({c.usable_cores or '?'} usable cores)",
        f"gpus         {gpus}",
        f"blas         {blas}",
        f"packages     {len(snap.packages)}",
    ]
    lines += [f"  {pkg.name}=={pkg.version}" for pkg in snap.packages]
    if snap.collection.errors:
        lines.append(f"probe errors {len(snap.collection.errors)}")
        lines += [f"  {e.probe}: {e.message}" for e in snap.collection.errors]
    # Every value comes from the snapshot: each line neutralized (no ESC/CR/bidi).
    return "\n".join(terminal(line) for line in lines)


class ShowFormat(str, Enum):
    """show: the snapshot as text, JSON, or an environment report for a bug report."""

    text = "text"
    json = "json"
    report = "report"


@app.command()
@boundary
def show(
    ref: Annotated[
        str,
        argument(
            "REF",
            "Snapshot id or 6+ char prefix, tag, latest[:k=v,...], fp:FINGERPRINT (12+ hex: "
            "the latest snapshot of that environment), FILE.json or mlflow:...",
        ),
    ],
    *,
    fmt: Annotated[
        ShowFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text; json; report: a paste-ready environment report for a bug report "
            "(Python, OS, CPU/GPU/driver, BLAS, threads, determinism, seeds, variables, "
            "packages).",
        ),
    ] = ShowFormat.text,
    json_: JsonAlias = False,
    db: DbOption = None,
) -> None:
    """Show one snapshot."""
    shown = chosen(fmt, json_)
    from ..refs import resolve

    snap = resolve(ref, db)
    if shown == "report":
        from ..report.environment import render

        _out(render(snap).rstrip("\n"))
        return
    _out(json_text(snap.model_dump_json(indent=2)) if shown == "json" else _render(snap))


@app.command()
@boundary
def tag(
    ref: Annotated[Optional[str], argument("REF", "The snapshot to tag.")] = None,
    name: Annotated[Optional[str], argument("NAME", "The tag, e.g. fraud-train.")] = None,
    *,
    history: Annotated[
        Optional[str],
        typer.Option("--history", metavar="NAME", help="Show where tag NAME has pointed."),
    ] = None,
    fmt: DataFormatOpt = DataFormat.text,
    json_: JsonAlias = False,
    db: DbOption = None,
) -> None:
    """Point a tag at a snapshot (moving it keeps its history), or show a tag's history."""
    json_ = chosen(fmt, json_) == "json"
    from ..store import open_reader, open_writer

    if history is not None:
        if ref is not None:
            raise BadInput("give either REF NAME or --history NAME, not both")
        with open_reader(db) as store:
            events = store.tag_history(history)
        if json_:
            dumped = [e.model_dump(mode="json") for e in events]
            _out(json_text(json.dumps(dumped, indent=2, sort_keys=True)))
            return
        for e in events:
            moved = f" (was {e.previous_snapshot_id[:12]})" if e.previous_snapshot_id else ""
            name = terminal(e.name)  # a tag written by an older envparity may hold ESC or BEL
            _out(f"{e.tagged_at:%Y-%m-%d %H:%M:%S}  {name} -> {e.snapshot_id[:12]}{moved}")
        return
    if ref is None or name is None:
        raise BadInput("usage: envparity tag REF NAME, or envparity tag --history NAME")
    with open_writer(db) as store:
        snap = store.tag(ref, name)
        where = store.url_redacted
    note(f"tagged {snap.snapshot_id[:12]} as {terminal(name)} in {where}")


def _info_lines(info: "SchemaInfo") -> List[str]:
    from ..wording import count

    lines = [f"url        {info.url}", f"dialect    {info.dialect}"]
    if info.path:
        lines.append(f"path       {info.path}")
    lines += [
        f"revision   {info.revision or '-'} ({info.state}; this envparity: {info.head})",
    ]
    if info.sightings is not None:
        lines.append(
            f"contents   {count(info.sightings, 'snapshot')} of "
            f"{count(info.environments or 0, 'environment')}, {count(info.tags or 0, 'tag')}"
        )
    return lines


@db_app.command()
@boundary
def upgrade(*, db: DbOption = None) -> None:
    """Create or migrate the schema to this envparity's (safe to run concurrently)."""
    from ..store import connect

    with connect(db) as store:
        before = store.upgrade()
        info = store.schema_info()
    if before == info.revision:
        note(f"{info.url}: already at {info.revision}")
    else:
        note(f"{info.url}: upgraded from {before or 'empty'} to {info.revision}")


@db_app.command()
@boundary
def current(
    *, fmt: DataFormatOpt = DataFormat.text, json_: JsonAlias = False, db: DbOption = None
) -> None:
    """Print the schema revision and whether it is behind, current or ahead."""
    json_ = chosen(fmt, json_) == "json"
    from ..store import connect

    with connect(db) as store:
        info = store.schema_info()
    if json_:
        _out(info.model_dump_json(indent=2))
    else:
        _out(f"{info.revision or '-'} ({info.state}; this envparity: {info.head})")


@db_app.command()
@boundary
def info(
    *, fmt: DataFormatOpt = DataFormat.text, json_: JsonAlias = False, db: DbOption = None
) -> None:
    """Where the store is (the SQLite file's path), its schema, and what it holds."""
    json_ = chosen(fmt, json_) == "json"
    from ..store import connect

    with connect(db) as store:
        schema = store.schema_info()
    _out(schema.model_dump_json(indent=2) if json_ else "\n".join(_info_lines(schema)))


@db_app.command()
@boundary
def scrub(
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
    ] = False,
    fmt: DataFormatOpt = DataFormat.text,
    json_: JsonAlias = False,
    db: DbOption = None,
) -> None:
    """Rewrite stored snapshots with today's redaction rules (old fingerprints stay as aliases)."""
    json_ = chosen(fmt, json_) == "json"
    from ..store import open_store
    from ..store.scrub import scrub as run_scrub

    with open_store(db, migrate=False) as store:
        result = run_scrub(store, dry_run=dry_run)
        where = store.url_redacted
    if json_:
        _out(result.model_dump_json(indent=2))
        return
    from ..wording import count

    verb = "would rewrite" if dry_run else "rewrote"
    note(
        f"{where}: {verb} {count(len(result.environments), 'environment')} and "
        f"{count(result.sightings, 'snapshot')}"
    )
    for old, new in sorted(result.environments.items()):
        _out(f"{old[:16]} -> {new[:16]}" + ("" if dry_run else " (old fingerprint kept as alias)"))
