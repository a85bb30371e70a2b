"""Benchmark the fleet commands and retention over millions of sightings in PostgreSQL.

    python scripts/bench_fleet.py [--sightings 1000000] [--runs 5] [--pg-url URL] [--keep]

Fills a dedicated database (``fleetbench``, created from ``--pg-url`` / ENVPARITY_TEST_PG_URL and
dropped after unless ``--keep``) in SQL: 200 environments stored through the store, then
``--sightings`` sightings with ``generate_series`` at schema 0002 (before the rollup), spread
evenly over the last 30 days, one in ten of role ``training``, each environment on 10 of 500
hosts. Then it migrates to head (the rollup's backfill, timed) and times, as child processes of
the installed ``envparity`` (imports included), medians of ``--runs`` after one warm-up run:

- ``fleet --baseline TAG --role serving`` (cold: with the fleet's findings cache emptied first;
  warm: the cache of the run before), ``fleet --format openmetrics``, ``list --limit 50``, and
  ``fleet --role serving --since 1d`` (counted from the sightings, not the rollup);
- ``db prune --older-than 3d`` once (it deletes about 90% of the sightings), while a writer
  stores a snapshot through the hook's psycopg path every 50 ms: the longest of those writes says
  how long a prune's locks held a starting container back.

Run it with the interpreter that has envparity installed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Dict, List, Optional, Tuple

DB = "fleetbench"
TAG = "fleet-baseline"
ENVIRONMENTS = 200


def _admin(pg_url: str) -> str:
    base = pg_url.rpartition("/")[0].replace("postgresql+psycopg://", "postgresql://", 1)
    return f"{base}/postgres"


def _recreate(pg_url: str, drop_only: bool = False) -> str:
    import psycopg

    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB}"')
    return f"{pg_url.rpartition('/')[0]}/{DB}"


_FILL = """
INSERT INTO sightings (snapshot_id, fingerprint, role, captured_at, hostname, labels,
    envparity_version, stored_at, collection, numerics, benchmarks, instance)
SELECT md5('bench' || g::text), t.fingerprint,
    CASE WHEN g % 10 = 0 THEN 'training' ELSE 'serving' END,
    now() - (g::float8 * 2592000 / :n) * interval '1 second',
    'host-' || ((t.k * 7 + (g / 200) % 10) % 500),
    t.labels, t.envparity_version, now(), t.collection, NULL, NULL, t.instance
FROM generate_series(1, :n) AS g
JOIN (SELECT *, row_number() OVER (ORDER BY fingerprint) - 1 AS k FROM sightings) AS t
    ON t.k = g % :envs
"""


# The sightings' secondary indexes (migration 0001), rebuilt after the bulk insert.
_INDEXES = (
    ("ix_sightings_captured_at", "captured_at"),
    ("ix_sightings_fingerprint_captured_at", "fingerprint, captured_at"),
    ("ix_sightings_role_captured_at", "role, captured_at"),
)


def fill(url: str, sightings: int) -> str:
    """Fill the database; the baseline's snapshot id (tagged ``TAG``)."""
    import sqlalchemy as sa

    import envparity
    from envparity.store import connect

    base = envparity.snapshot(role="serving", labels={"model": "fraud"})
    # Long statements: ENVPARITY_DB_TIMEOUT's 10 s is far too short for a bulk fill.
    with connect(url, timeout_s=3600) as store:
        store.upgrade("0002_probe_outputs")
        start = time.perf_counter()
        for i in range(ENVIRONMENTS):
            env = dict(base.env, BENCH_VARIANT=str(i)) if i else base.env
            variant = base.model_copy(update={"snapshot_id": uuid.uuid4().hex, "env": env})
            store.save(variant.with_fingerprint())
        with store.engine.begin() as conn:
            # A bulk load builds its secondary indexes once, after the rows, as pg_restore does
            # (maintaining three B-trees row by row made the 10M fill take most of an hour).
            for name, _ in _INDEXES:
                conn.execute(sa.text(f"DROP INDEX {name}"))
            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
            conn.execute(sa.text(_FILL), {"n": sightings - ENVIRONMENTS, "envs": ENVIRONMENTS})
            for name, columns in _INDEXES:
                conn.execute(sa.text(f"CREATE INDEX {name} ON sightings ({columns})"))
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE sightings")
            )
        print(f"filled {sightings} sightings in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        store.upgrade()
        print(f"migrated to head (the rollup's backfill) in {time.perf_counter() - start:.1f} s")
        with store.engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM sighting_rollup")).scalar_one()
            conn.execute(sa.text("ANALYZE sighting_rollup"))
        print(f"  the rollup has {rows} rows for {ENVIRONMENTS} environments")
        sid = base.snapshot_id
        with store.engine.begin() as conn:
            sid = conn.execute(
                sa.text("SELECT snapshot_id FROM sightings WHERE fingerprint = :f LIMIT 1"),
                {"f": base.with_fingerprint().fingerprint},
            ).scalar_one()
        store.tag(sid, TAG)
    return sid


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: List[str], env: Dict[str, str]) -> Tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run: on a busy machine the CPU time says
    more about the command than the wall time."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode not in (0, 1):  # 1: drift found, as `fleet` may say
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"{' '.join(cmd)} failed with {done.returncode}")
    return elapsed, cpu


def _median(
    cmd: List[str], env: Dict[str, str], runs: int, before: Optional[str] = None
) -> str:
    """"W ms (CPU C ms)": the medians of ``runs`` runs after a warm-up run."""
    times = []
    _time(cmd, env)  # warm the file cache (and, unless emptied, the findings cache)
    for _ in range(runs):
        if before:
            _empty(before)
        times.append(_time(cmd, env))
    wall = statistics.median(w for w, _ in times) * 1e3
    cpu = statistics.median(c for _, c in times) * 1e3
    return f"{wall:.0f} ms (CPU {cpu:.0f} ms)"


def _empty(directory: str) -> None:
    import shutil

    shutil.rmtree(directory, ignore_errors=True)


def _writer(url: str, stop: threading.Event, latencies: List[float]) -> None:
    """What starting containers do during the prune: store a snapshot, every 50 ms."""
    import envparity
    from envparity.store import fast_pg
    from envparity.store.rows import rows

    template = envparity.snapshot(role="serving")
    while not stop.is_set():
        snap = template.model_copy(update={"snapshot_id": uuid.uuid4().hex})
        start = time.perf_counter()
        fast_pg.save_rows(rows(snap), url, timeout_s=30)
        latencies.append(time.perf_counter() - start)
        stop.wait(0.05)


def bench(url: str, sightings: int, runs: int, prune: bool = True) -> None:
    cli = os.path.join(os.path.dirname(sys.executable), "envparity")
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ENVPARITY_DB_URL=url, ENVPARITY_HOME=home)
        env.pop("ENVPARITY_BASELINE", None)
        cache = os.path.join(home, "findings")
        cases = {
            "fleet --baseline TAG --role serving (cold findings cache)": (
                [cli, "fleet", "--baseline", TAG, "--role", "serving"], cache),
            "fleet --baseline TAG --role serving (warm findings cache)": (
                [cli, "fleet", "--baseline", TAG, "--role", "serving"], None),
            "fleet --baseline TAG --format openmetrics (warm)": (
                [cli, "fleet", "--baseline", TAG, "--format", "openmetrics"], None),
            "fleet --role serving (no baseline)": ([cli, "fleet", "--role", "serving"], None),
            "list --limit 50": ([cli, "list", "--limit", "50"], None),
            "fleet --role serving --since 1d (from the sightings)": (
                [cli, "fleet", "--role", "serving", "--since", "1d"], None),
        }
        plain = _median([sys.executable, "-c", "pass"], env, runs)
        print(
            f"end to end, medians of {runs} runs, load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs (`python -c pass`: {plain}):"
        )
        for name, (cmd, emptied) in cases.items():
            print(f"  {name}: {_median(cmd, env, runs, emptied)}", flush=True)
        if not prune:
            return
        stop, latencies = threading.Event(), []  # type: ignore[var-annotated]
        writer = threading.Thread(target=_writer, args=(url, stop, latencies))
        writer.start()
        time.sleep(1)
        start, cpu = time.perf_counter(), _cpu()
        done = subprocess.run(
            [cli, "db", "prune", "--older-than", "3d", "--json"],
            env=dict(env, ENVPARITY_DB_TIMEOUT="60"),
            capture_output=True,
        )
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
        time.sleep(1)
        stop.set()
        writer.join()
        if done.returncode:
            sys.stderr.write(done.stderr.decode("utf-8", "replace"))
            raise SystemExit("db prune failed")
        import json

        deleted = json.loads(done.stdout)["sightings"]
        print(
            f"  db prune --older-than 3d: deleted {deleted} of {sightings} sightings in "
            f"{elapsed:.1f} s (CPU of the command {cpu:.1f} s); {len(latencies)} hook writes "
            "meanwhile, the longest "
            f"{max(latencies) * 1e3:.0f} ms (median {statistics.median(latencies) * 1e3:.0f} ms)"
        )
        after = _median([cli, "fleet", "--baseline", TAG, "--role", "serving"], env, runs)
        print(f"  fleet --baseline TAG --role serving after the prune: {after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sightings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("ENVPARITY_TEST_PG_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the fleetbench database")
    parser.add_argument("--reuse", action="store_true", help="use a kept fleetbench as is")
    parser.add_argument("--skip-prune", action="store_true", help="time the reads only")
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("give --pg-url or set ENVPARITY_TEST_PG_URL")
    if args.sightings <= ENVIRONMENTS:
        parser.error(f"--sightings: give more than {ENVIRONMENTS}")
    url = f"{args.pg_url.rpartition('/')[0]}/{DB}" if args.reuse else _recreate(args.pg_url)
    try:
        if not args.reuse:
            fill(url, args.sightings)
        bench(url, args.sightings, args.runs, prune=not args.skip_prune)
    finally:
        if not args.keep:
            _recreate(args.pg_url, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
