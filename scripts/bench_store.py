"""Store benchmarks: ingest throughput, queries over 100,000 sightings, `snapshot` vs `pip freeze`.

    python scripts/bench_store.py [--pg URL] [--quick]

Prints medians. PostgreSQL runs when --pg or ENVPARITY_TEST_PG_URL gives a server URL: each
PostgreSQL figure uses a database of its own, created and dropped here.

- ingest: snapshots/s saved through Store.save, one process, and 8 writer processes at once
  (wall time from the first save to the last), 50 distinct environments among them;
- queries: `list --limit 50`, resolving `latest:role=serving` and the fleet grouping, in-process,
  over 100,000 sightings of 50 environments (target: < 200 ms each);
- CLI: `envparity snapshot` storing into the default SQLite store against `pip freeze` on the
  same interpreter, alternating runs, wall time of each child process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, List, Optional

from envparity.model import Package, Snapshot

ENVIRONMENTS = 50


def variants(base: Snapshot, count: int, start: int = 0) -> List[Snapshot]:
    """``count`` sightings of ENVIRONMENTS environments (one package version differs)."""
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    envs = [
        base.model_copy(
            update={"packages": [*base.packages, Package(name="zz-variant", version=f"{e}.0")]}
        ).with_fingerprint()
        for e in range(ENVIRONMENTS)
    ]
    return [
        envs[(start + i) % ENVIRONMENTS].model_copy(
            update={
                "snapshot_id": uuid.uuid4().hex,
                "captured_at": t0 + timedelta(seconds=start + i),
                "role": "serving" if (start + i) % 4 else "training",
            }
        )
        for i in range(count)
    ]


def _fresh_pg(admin_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"envparity_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def _writer(args: tuple) -> tuple:
    url, snaps_json, barrier = args
    from envparity.store import open_store

    snaps = [Snapshot.model_validate_json(s) for s in snaps_json]
    with open_store(url) as store:
        barrier.wait()
        start = time.time()
        for snap in snaps:
            store.save(snap)
        return start, time.time()


def ingest(url: str, base: Snapshot, count: int, writers: int) -> float:
    """Snapshots per second into the (already migrated) store at ``url``."""
    from envparity.store import open_store

    snaps = variants(base, count)
    if writers == 1:
        with open_store(url) as store:
            start = time.perf_counter()
            for snap in snaps:
                store.save(snap)
            return count / (time.perf_counter() - start)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(writers)
        chunks = [
            (url, [s.model_dump_json() for s in snaps[w::writers]], barrier) for w in range(writers)
        ]
        with ctx.Pool(writers) as pool:
            spans = pool.map(_writer, chunks)
    return count / (max(e for _, e in spans) - min(s for s, _ in spans))


def populate(url: str, base: Snapshot, sightings: int) -> None:
    """Bulk-load ``sightings`` rows of ENVIRONMENTS environments (Core executemany, in batches)."""
    import sqlalchemy as sa

    from envparity.store import open_store
    from envparity.store import tables as t
    from envparity.store.rows import rows

    with open_store(url) as store:
        for snap in variants(base, ENVIRONMENTS):
            store.save(snap)
        template = rows(base).sighting
        envs = [s.fingerprint for s in variants(base, ENVIRONMENTS)]
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        batch = []
        with store.engine.begin() as conn:
            for i in range(sightings - ENVIRONMENTS):
                row = dict(template)
                row.update(
                    snapshot_id=uuid.uuid4().hex,
                    fingerprint=envs[i % ENVIRONMENTS],
                    captured_at=t0 + timedelta(seconds=ENVIRONMENTS + i),
                    role="serving" if i % 4 else "training",
                    hostname=f"pod-{i % 5000}",
                    labels={"model": "fraud" if i % 2 else "churn"},
                    numerics=sa.null(),
                    benchmarks=sa.null(),
                )
                batch.append(row)
                if len(batch) == 5000:
                    conn.execute(sa.insert(t.sightings), batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(t.sightings), batch)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def queries(url: str, repeat: int) -> None:
    from envparity.store import open_store

    with open_store(url) as store:
        store.list_snapshots(limit=1)  # warm the pool and the statement cache
        figures = {
            "list --limit 50": median_ms(lambda: store.list_snapshots(limit=50), repeat),
            "resolve latest:role=serving": median_ms(
                lambda: store.resolve("latest:role=serving"), repeat
            ),
            "resolve latest:role=serving,model=fraud": median_ms(
                lambda: store.resolve("latest:role=serving,model=fraud"), repeat
            ),
            "environment_groups (fleet)": median_ms(store.environment_groups, repeat),
        }
        count = store.schema_info().sightings
    # The commands themselves, in-process: each call opens the store as the CLI does.
    from typer.testing import CliRunner

    from envparity.cli import app

    runner = CliRunner()
    for name, argv in (
        ("CLI list --limit 50", ["list", "--limit", "50", "--db", url]),
        ("CLI show latest:role=serving --json", ["show", "latest:role=serving", "--json"]),
    ):
        argv = argv if "--db" in argv else [*argv, "--db", url]
        assert runner.invoke(app, argv).exit_code == 0
        figures[name] = median_ms(lambda argv=argv: runner.invoke(app, argv), repeat)
    for name, ms in figures.items():
        print(f"  {name:<42} {ms:8.1f} ms   ({count} sightings)")


def big_venv(extra: int) -> str:
    """A venv with ``extra`` more distributions than this one (tiny dist-infos), seeing this
    venv's packages and envparity's source through a .pth file; returns its python."""
    import sysconfig
    import venv

    root = tempfile.mkdtemp(prefix="envparity-bench-venv-")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    site = next(p for p in (os.path.join(root, "lib", d, "site-packages")
                            for d in os.listdir(os.path.join(root, "lib"))) if os.path.isdir(p))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Every site-packages this interpreter sees (a venv with --system-site-packages sees two).
    seen = [p for p in sys.path if p.endswith("site-packages")]
    seen = seen or [sysconfig.get_paths()["purelib"]]
    with open(os.path.join(site, "_bench.pth"), "w") as f:
        f.write("\n".join([repo, *seen]) + "\n")
    for i in range(extra):
        name = f"benchpkg{i:04d}"
        info = os.path.join(site, f"{name}-1.{i}.0.dist-info")
        os.makedirs(os.path.join(site, name))
        os.makedirs(info)
        with open(os.path.join(site, name, "__init__.py"), "w") as f:
            f.write("")
        with open(os.path.join(info, "METADATA"), "w") as f:
            f.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{i}.0\n")
        with open(os.path.join(info, "INSTALLER"), "w") as f:
            f.write("pip\n")
        with open(os.path.join(info, "RECORD"), "w") as f:
            f.write(f"{name}/__init__.py,,\n{name}-1.{i}.0.dist-info/METADATA,,\n")
    return os.path.join(root, "bin", "python")


def cli_vs_pip_freeze(runs: int, python: str = sys.executable) -> None:
    home = tempfile.mkdtemp(prefix="envparity-bench-")
    env = {**os.environ, "ENVPARITY_HOME": home}
    env.pop("ENVPARITY_DB_URL", None)
    commands = {
        "envparity snapshot (SQLite store)": [python, "-m", "envparity", "snapshot"],
        "envparity snapshot --no-store": [python, "-m", "envparity", "snapshot", "--no-store"],
        "pip freeze": [python, "-m", "pip", "freeze", "--disable-pip-version-check"],
    }
    # The first snapshot creates and migrates the store: a one-off, timed apart.
    start = time.perf_counter()
    subprocess.run(commands["envparity snapshot (SQLite store)"], env=env, capture_output=True)
    first = time.perf_counter() - start
    times: dict = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            times[name].append(time.perf_counter() - start)
            assert done.returncode == 0, done.stderr
    for name, values in times.items():
        print(f"  {name:<42} {statistics.median(values) * 1000:8.0f} ms   (median of {runs})")
    print(f"  {'first snapshot (creates the store)':<42} {first * 1000:8.0f} ms")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("ENVPARITY_TEST_PG_URL"))
    parser.add_argument("--quick", action="store_true", help="Fewer snapshots and repeats.")
    parser.add_argument("--cli-only", action="store_true", help="Only snapshot vs pip freeze.")
    args = parser.parse_args(argv)

    import envparity
    from envparity.store import connect

    base = envparity.snapshot(role="serving", labels={"model": "fraud"})
    count = 200 if args.quick else 800
    sightings = 20_000 if args.quick else 100_000
    repeat = 5 if args.quick else 20
    print(f"base snapshot: {len(base.packages)} packages; cores: {os.cpu_count()}")

    dialects = [] if args.cli_only else [("sqlite", None)]
    if args.pg and not args.cli_only:
        dialects.append(("postgresql", args.pg))
    for dialect, admin in dialects:
        print(f"{dialect}: ingest ({count} snapshots of {ENVIRONMENTS} environments)")
        for writers in (1, 8):
            rates = []
            for _ in range(1 if args.quick else 3):
                with _store_url(dialect, admin) as url:
                    with connect(url) as store:
                        store.upgrade()
                    rates.append(ingest(url, base, count, writers))
            label = "sequential" if writers == 1 else f"{writers} writer processes"
            print(f"  {label:<42} {statistics.median(rates):8.0f} snapshots/s")
        print(f"{dialect}: queries over {sightings} sightings of {ENVIRONMENTS} environments")
        with _store_url(dialect, admin) as url:
            populate(url, base, sightings)
            queries(url, repeat)
    runs = 5 if args.quick else 15
    print(f"CLI: envparity snapshot vs pip freeze, this interpreter ({len(base.packages)} dists)")
    cli_vs_pip_freeze(runs)
    print("CLI: the same, in a venv with 300 more distributions (an ML-sized environment)")
    cli_vs_pip_freeze(runs, big_venv(300))


class _store_url:
    """A fresh store URL for one measurement, cleaned up after."""

    def __init__(self, dialect: str, admin: Optional[str]) -> None:
        self.dialect, self.admin = dialect, admin

    def __enter__(self) -> str:
        if self.dialect == "sqlite":
            self.tmp = tempfile.TemporaryDirectory(prefix="envparity-bench-")
            return f"sqlite:///{self.tmp.name}/bench.db"
        assert self.admin
        self.gen = _fresh_pg(self.admin)
        return next(self.gen)

    def __exit__(self, *exc: object) -> None:
        if self.dialect == "sqlite":
            self.tmp.cleanup()
        else:
            next(self.gen, None)


if __name__ == "__main__":
    main()
