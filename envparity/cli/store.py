"""``envparity list``, ``show``, ``tag`` and ``db upgrade|current|info``: the store's commands."""

import json
import sys
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ..errors import BadInput
from ..report.escape import terminal
from ._app import app, boundary, parse_labels

if TYPE_CHECKING:
    from ..model import Snapshot
    from ..store import SchemaInfo

db_app = typer.Typer(
    name="db",
    help="The database: migrate it, and say where it is and which schema it has.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    Optional[str],
    typer.Option(
        "--db",
        help="Database URL (sqlite:///PATH or postgresql+psycopg://...). Default: "
        "$ENVPARITY_DB_URL, else SQLite in $ENVPARITY_HOME or the user data directory.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


@app.command("list")
@boundary
def list_(
    *,
    role: Annotated[Optional[str], typer.Option(help="Only snapshots with this role.")] = None,
    label: Annotated[
        Optional[List[str]], typer.Option(help="KEY=VALUE the snapshot must carry; repeatable.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    json_: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List stored snapshots, newest first."""
    from ..store import open_store

    labels = parse_labels(label)
    with open_store(db) as store:
        rows = store.list_snapshots(role=role, labels=labels or None, limit=limit)
    if json_:
        _out(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, sort_keys=True))
        return
    if not rows:
        sys.stderr.write("no snapshots stored yet; take one with `envparity snapshot`\n")
        return
    _out(f"{'SNAPSHOT':<12}  {'CAPTURED (UTC)':<19}  {'ROLE':<10}  {'FINGERPRINT':<12}  "
         f"{'PYTHON':<8}  {'PKGS':>4}  HOST / LABELS / TAGS")
    for r in rows:
        extra = " ".join(
            [r.hostname or "-"]
            + [f"{k}={v}" for k, v in sorted(r.labels.items())]
            + [f"[{t}]" for t in r.tags]
        )
        # Roles, labels, hosts and tags come from data: no ESC/CR/bidi reaches the terminal.
        _out(
            terminal(
                f"{r.snapshot_id[:12]:<12}  {r.captured_at:%Y-%m-%d %H:%M:%S}  "
                f"{r.role or '-':<10}  {r.fingerprint[:12]:<12}  {r.python_version:<8}  "
                f"{r.package_count:>4}  {extra}"
            )
        )


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


@app.command()
@boundary
def show(
    ref: Annotated[
        str,
        typer.Argument(
            help="Snapshot id or 6+ char prefix, tag, latest[:k=v,...], fp:FINGERPRINT (12+ hex: "
            "the latest snapshot of that environment), or FILE.json."
        ),
    ],
    *,
    json_: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show one snapshot."""
    from ..refs import resolve

    snap = resolve(ref, db)
    _out(snap.model_dump_json(indent=2) if json_ else _render(snap))


@app.command()
@boundary
def tag(
    ref: Annotated[Optional[str], typer.Argument(help="The snapshot to tag.")] = None,
    name: Annotated[Optional[str], typer.Argument(help="The tag, e.g. fraud-train.")] = None,
    *,
    history: Annotated[
        Optional[str],
        typer.Option("--history", metavar="NAME", help="Show where tag NAME has pointed."),
    ] = None,
    json_: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Point a tag at a snapshot (moving it keeps its history), or show a tag's history."""
    from ..store import open_store

    if history is not None:
        if ref is not None:
            raise BadInput("give either REF NAME or --history NAME, not both")
        with open_store(db) as store:
            events = store.tag_history(history)
        if json_:
            _out(json.dumps([e.model_dump(mode="json") for e in events], indent=2, sort_keys=True))
            return
        for e in events:
            moved = f" (was {e.previous_snapshot_id[:12]})" if e.previous_snapshot_id else ""
            _out(f"{e.tagged_at:%Y-%m-%d %H:%M:%S}  {e.name} -> {e.snapshot_id[:12]}{moved}")
        return
    if ref is None or name is None:
        raise BadInput("usage: envparity tag REF NAME, or envparity tag --history NAME")
    with open_store(db) as store:
        snap = store.tag(ref, name)
        where = store.url_redacted
    sys.stderr.write(f"tagged {snap.snapshot_id[:12]} as {name} in {where}\n")


def _info_lines(info: "SchemaInfo") -> List[str]:
    lines = [f"url        {info.url}", f"dialect    {info.dialect}"]
    if info.path:
        lines.append(f"path       {info.path}")
    lines += [
        f"revision   {info.revision or '-'} ({info.state}; this envparity: {info.head})",
    ]
    if info.sightings is not None:
        lines.append(
            f"contents   {info.sightings} snapshots of {info.environments} environments, "
            f"{info.tags} tags"
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
        sys.stderr.write(f"{info.url}: already at {info.revision}\n")
    else:
        sys.stderr.write(f"{info.url}: upgraded from {before or 'empty'} to {info.revision}\n")


@db_app.command()
@boundary
def current(*, json_: JsonOption = False, db: DbOption = None) -> None:
    """Print the schema revision and whether it is behind, current or ahead."""
    from ..store import connect

    with connect(db) as store:
        info = store.schema_info()
    if json_:
        _out(info.model_dump_json(indent=2))
    else:
        _out(f"{info.revision or '-'} ({info.state}; this envparity: {info.head})")


@db_app.command()
@boundary
def info(*, json_: JsonOption = False, db: DbOption = None) -> None:
    """Where the store is (the SQLite file's path), its schema, and what it holds."""
    from ..store import connect

    with connect(db) as store:
        schema = store.schema_info()
    _out(schema.model_dump_json(indent=2) if json_ else "\n".join(_info_lines(schema)))
