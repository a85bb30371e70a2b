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
    for name, ms in figures.items():
        print(f"  {name:<42} {ms:8.1f} ms   ({count} sightings)")


def cli_vs_pip_freeze(runs: int) -> None:
    home = tempfile.mkdtemp(prefix="envparity-bench-")
    env = {**os.environ, "ENVPARITY_HOME": home}
    env.pop("ENVPARITY_DB_URL", None)
    commands = {
        "envparity snapshot (SQLite store)": [sys.executable, "-m", "envparity", "snapshot"],
        "envparity snapshot --no-store": [
            sys.executable, "-m", "envparity", "snapshot", "--no-store"
        ],
        "pip freeze": [sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
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
    args = parser.parse_args(argv)

    import envparity
    from envparity.store import connect

    base = envparity.snapshot(role="serving", labels={"model": "fraud"})
    count = 200 if args.quick else 800
    sightings = 20_000 if args.quick else 100_000
    repeat = 5 if args.quick else 20
    print(f"base snapshot: {len(base.packages)} packages; cores: {os.cpu_count()}")

    dialects = [("sqlite", None)]
    if args.pg:
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
    print("CLI: envparity snapshot vs pip freeze, same interpreter, alternating")
    cli_vs_pip_freeze(5 if args.quick else 15)


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
